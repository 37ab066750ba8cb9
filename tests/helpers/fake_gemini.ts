/**
 * A scripted stand-in for the Gemini API (Generative Language, `v1beta`), for driving the real
 * Gemini CLI offline (`GOOGLE_GEMINI_BASE_URL`).
 *
 * - `POST /v1beta/models/MODEL:streamGenerateContent?alt=sse`: Server-Sent Events, one
 *   `GenerateContentResponse` per `data:` line (text in two chunks, or one `functionCall`
 *   part), the last with `finishReason: STOP` and `usageMetadata`.
 * - `POST /v1beta/models/MODEL:generateContent`: one JSON `GenerateContentResponse`. The CLI's
 *   model router and other side calls (JSON mode, no tools) get a JSON text choosing the
 *   flash model, see {@linkcode sideCallText}.
 * - `POST …:countTokens`: a token count.
 * - `GET /v1beta/models`: a model list.
 *
 * Everything else answers 404 and is recorded (`unknown`).
 *
 * What the "model" answers is decided by a {@linkcode GeminiScript} from a
 * {@linkcode GeminiTurn}; {@linkcode geminiShellThenAnswer} calls `run_shell_command` once,
 * then answers with its output.
 *
 * @module
 */

import { PROBE_COMMAND } from "./fake_openai.ts";

/** A function the CLI declares. */
export interface FunctionDeclaration {
  name: string;
  description?: string;
  /** `parametersJsonSchema` or `parameters`, whichever the CLI sent. */
  parameters?: { properties?: Record<string, unknown>; required?: string[] };
}

/** A `functionResponse` part the conversation carries back. */
export interface FunctionResponse {
  id?: string;
  name: string;
  response: unknown;
}

/** The request, as a script sees it. */
export interface GeminiTurn {
  model: string;
  method: "generateContent" | "streamGenerateContent";
  functions: FunctionDeclaration[];
  functionResponses: FunctionResponse[];
  /** Text of the user turns, oldest first. */
  userTexts: string[];
  systemText: string;
  /** `generationConfig.responseMimeType`, e.g. `application/json` for the router. */
  responseMimeType?: string;
  /** `generationConfig.responseJsonSchema` (or `responseSchema`). */
  responseSchema?: unknown;
  body: Record<string, unknown>;
}

/** One answer: a text, or one function call. */
export type GeminiReply =
  | { kind: "text"; text: string; usage?: Partial<GeminiUsage> }
  | {
    kind: "call";
    name: string;
    args: Record<string, unknown>;
    id?: string;
    usage?: Partial<GeminiUsage>;
  };

/** `usageMetadata` counts. */
export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  cachedContentTokenCount: number;
  thoughtsTokenCount: number;
}

/** Decides the next reply. Throwing answers 400 and is recorded in `errors`. */
export type GeminiScript = (turn: GeminiTurn) => GeminiReply;

/** One request the stand-in received. */
export interface GeminiRecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
  reply?: GeminiReply;
  usage?: GeminiUsage;
  status: number;
  at: number;
}

/** A running stand-in. */
export interface FakeGemini {
  /** `http://127.0.0.1:PORT`, for `GOOGLE_GEMINI_BASE_URL`. */
  url: string;
  requests: GeminiRecordedRequest[];
  errors: string[];
  /** Requests it did not know (method and path). */
  unknown: string[];
  close(): Promise<void>;
}

/**
 * The answer to a side call in JSON mode (the CLI's model router asks for
 * `{complexity_reasoning, complexity_score}` with a `responseJsonSchema`): an object filling
 * every property of the schema — strings with a short reason, numbers low (a simple task: the
 * flash model), enums with their `flash` choice or their first.
 */
export function sideCallText(schema?: unknown): string {
  return JSON.stringify(fill(schema ?? {}));
}

function fill(schema: Raw): unknown {
  const type = String(schema?.type ?? "").toUpperCase();
  if (Array.isArray(schema?.enum) && schema.enum.length > 0) {
    return schema.enum.find((v: unknown) => String(v).includes("flash")) ??
      schema.enum[0];
  }
  if (type === "OBJECT" || schema?.properties) {
    const out: Record<string, unknown> = {};
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      out[key] = fill(sub);
    }
    return out;
  }
  if (type === "INTEGER" || type === "NUMBER") return 10;
  if (type === "BOOLEAN") return false;
  if (type === "ARRAY") return [];
  return "A simple request.";
}

/** Options of {@linkcode geminiShellThenAnswer}. */
export interface GeminiShellOptions {
  /** Default {@linkcode PROBE_COMMAND}. */
  command?: string;
  /** The final answer; default `TOOL RESULT: <the response as JSON>`. */
  finalText?: (responses: FunctionResponse[]) => string;
}

/**
 * One `run_shell_command` call (its advertised schema checked), then, once a function response
 * came back, a final text. Calls without declared functions in JSON mode (the router) get
 * {@linkcode sideCallText}, others a short text.
 */
export function geminiShellThenAnswer(
  options: GeminiShellOptions = {},
): GeminiScript {
  const command = options.command ?? PROBE_COMMAND;
  return (turn) => {
    if (turn.functions.length === 0) {
      return {
        kind: "text",
        text: turn.responseMimeType === "application/json"
          ? sideCallText(turn.responseSchema)
          : "Probe",
      };
    }
    if (turn.functionResponses.length === 0) {
      const tool = turn.functions.find((f) => f.name === "run_shell_command");
      if (!tool) {
        throw new Error(
          `the CLI declares no run_shell_command; it declares ${
            turn.functions.map((f) => f.name).join(", ")
          }`,
        );
      }
      const props = tool.parameters?.properties ?? {};
      const args: Record<string, unknown> = { command };
      if ("description" in props) args.description = "Print a probe line";
      for (const key of tool.parameters?.required ?? []) {
        if (!(key in args)) throw new Error(`run_shell_command needs ${key}`);
      }
      return { kind: "call", name: "run_shell_command", args };
    }
    return {
      kind: "text",
      text: options.finalText?.(turn.functionResponses) ??
        `TOOL RESULT: ${
          JSON.stringify(turn.functionResponses.at(-1)?.response)
        }`,
    };
  };
}

// deno-lint-ignore no-explicit-any -- request bodies are walked defensively
type Raw = any;

/** The {@linkcode GeminiTurn} of a request body. */
export function geminiTurn(
  model: string,
  method: GeminiTurn["method"],
  body: Raw,
): GeminiTurn {
  const contents: Raw[] = Array.isArray(body?.contents) ? body.contents : [];
  const parts = (c: Raw): Raw[] => Array.isArray(c?.parts) ? c.parts : [];
  const tools: Raw[] = Array.isArray(body?.tools) ? body.tools : [];
  const config = body?.generationConfig ?? body?.config ?? {};
  return {
    model,
    method,
    functions: tools.flatMap((t) =>
      Array.isArray(t?.functionDeclarations) ? t.functionDeclarations : []
    ).map((f: Raw) => ({
      name: String(f.name),
      description: f.description,
      parameters: f.parametersJsonSchema ?? f.parameters,
    })),
    functionResponses: contents.flatMap(parts).filter((p) =>
      p?.functionResponse
    ).map((p) => p.functionResponse),
    userTexts: contents.filter((c) => c?.role === "user").map((c) =>
      parts(c).map((p) => typeof p?.text === "string" ? p.text : "").join("")
    ),
    systemText: parts(body?.systemInstruction).map((p) => p?.text ?? "").join(
      "\n",
    ),
    responseMimeType: config.responseMimeType,
    responseSchema: config.responseJsonSchema ?? config.responseSchema,
    body,
  };
}

function usageFor(body: Raw, reply: GeminiReply): GeminiUsage {
  const prompt = Math.ceil(JSON.stringify(body ?? {}).length / 4);
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: Math.ceil(JSON.stringify(reply).length / 4) + 8,
    cachedContentTokenCount: Math.floor(prompt * 0.5),
    thoughtsTokenCount: 0,
    ...reply.usage,
  };
}

function usageMetadata(usage: GeminiUsage) {
  return {
    promptTokenCount: usage.promptTokenCount,
    candidatesTokenCount: usage.candidatesTokenCount,
    cachedContentTokenCount: usage.cachedContentTokenCount,
    thoughtsTokenCount: usage.thoughtsTokenCount,
    totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount +
      usage.thoughtsTokenCount,
  };
}

let idCounter = 0;
function newId(): string {
  idCounter++;
  return `${Date.now().toString(36)}${idCounter.toString(36).padStart(4, "0")}`;
}

/** The `GenerateContentResponse` chunks of one answer (one for a call, two for a text). */
export function geminiChunks(
  model: string,
  reply: GeminiReply,
  usage: GeminiUsage,
): Record<string, unknown>[] {
  const responseId = newId();
  const chunk = (parts: unknown[], last: boolean) => ({
    candidates: [{
      content: { role: "model", parts },
      index: 0,
      ...(last ? { finishReason: "STOP" } : {}),
    }],
    ...(last ? { usageMetadata: usageMetadata(usage) } : {}),
    modelVersion: model,
    responseId,
  });
  if (reply.kind === "call") {
    return [
      chunk([{
        functionCall: {
          name: reply.name,
          args: reply.args,
          ...(reply.id ? { id: reply.id } : {}),
        },
      }], true),
    ];
  }
  const text = reply.text;
  const mid = text.length >> 1;
  return text.length < 2 ? [chunk([{ text }], true)] : [
    chunk([{ text: text.slice(0, mid) }], false),
    chunk([{
      text: text.slice(mid),
    }], true),
  ];
}

function apiError(status: number, message: string, reason: string): Response {
  return Response.json(
    { error: { code: status, message, status: reason } },
    { status },
  );
}

/** Starts the stand-in on 127.0.0.1 and a free port. */
export function startFakeGemini(
  options: { script?: GeminiScript } = {},
): Promise<FakeGemini> {
  const script = options.script ?? geminiShellThenAnswer();
  const requests: GeminiRecordedRequest[] = [];
  const errors: string[] = [];
  const unknown: string[] = [];
  const encoder = new TextEncoder();
  const { promise, resolve } = Promise.withResolvers<FakeGemini>();

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const text = await req.text();
    let body: Raw = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch { /* recorded as null */ }
    const record: GeminiRecordedRequest = {
      method: req.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body,
      status: 200,
      at: Date.now(),
    };
    requests.push(record);
    const answer = (res: Response) => (record.status = res.status, res);

    if (req.method === "GET" && /^\/v1(beta)?\/models\/?$/.test(url.pathname)) {
      return answer(Response.json({
        models: ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"]
          .map((name) => ({
            name: `models/${name}`,
            supportedGenerationMethods: [
              "generateContent",
              "streamGenerateContent",
              "countTokens",
            ],
          })),
      }));
    }
    const match = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(\w+)$/.exec(
      url.pathname,
    );
    if (req.method !== "POST" || !match) {
      unknown.push(`${req.method} ${record.path}`);
      return answer(apiError(404, `no ${url.pathname}`, "NOT_FOUND"));
    }
    const [, model, method] = match;
    if (method === "countTokens") {
      return answer(Response.json({
        totalTokens: Math.ceil(text.length / 4),
      }));
    }
    if (method !== "generateContent" && method !== "streamGenerateContent") {
      unknown.push(`${req.method} ${record.path}`);
      return answer(apiError(404, `no method ${method}`, "NOT_FOUND"));
    }
    let reply: GeminiReply;
    try {
      reply = script(geminiTurn(model, method, body));
    } catch (error) {
      errors.push((error as Error).message);
      return answer(
        apiError(400, (error as Error).message, "INVALID_ARGUMENT"),
      );
    }
    const usage = usageFor(body, reply);
    record.reply = reply;
    record.usage = usage;
    const chunks = geminiChunks(model, reply, usage);
    if (method === "generateContent") {
      // One response: the chunks' parts joined.
      const last = chunks.at(-1) as Raw;
      const parts = chunks.flatMap((c: Raw) => c.candidates[0].content.parts);
      const joined = parts.every((p: Raw) => typeof p.text === "string")
        ? [{ text: parts.map((p: Raw) => p.text).join("") }]
        : parts;
      last.candidates[0].content.parts = joined;
      return answer(Response.json(last));
    }
    return answer(
      new Response(
        new ReadableStream({
          start(controller) {
            for (const c of chunks) {
              controller.enqueue(
                encoder.encode(`data: ${JSON.stringify(c)}\r\n\r\n`),
              );
            }
            controller.close();
          },
        }),
        {
          headers: {
            "content-type": "text/event-stream",
            "cache-control": "no-cache",
          },
        },
      ),
    );
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen({ port }) {
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        errors,
        unknown,
        close: async () => {
          await server.shutdown();
        },
      });
    },
  }, handle);
  return promise;
}
