/**
 * A scripted stand-in for the OpenAI API, for driving the real Codex CLI (Responses API) and
 * GitHub Copilot CLI (Chat Completions) offline.
 *
 * - `POST /v1/responses`: a Server-Sent Events stream as Codex reads it (`response.created`,
 *   `response.output_item.added`, `response.output_text.delta`, `response.output_item.done`,
 *   `response.completed` with `usage`), or one JSON response without `stream: true`.
 * - `POST /v1/chat/completions`: with `stream: true` `chat.completion.chunk`s (role, text or
 *   `tool_calls` deltas, a `finish_reason` chunk, then — with
 *   `stream_options.include_usage` or always, see {@linkcode FakeOpenAIOptions} — a last chunk
 *   with `usage` and no choices) and `data: [DONE]`; else one `chat.completion`.
 * - `GET /v1/models` (and `/models`): a model list naming {@linkcode FAKE_MODEL}.
 *
 * Everything else answers 404 and is recorded like every request (`requests`), so what a CLI
 * asks for beyond the above shows up.
 *
 * What the "model" answers is decided by a {@linkcode Script} from a {@linkcode Turn}, a view of
 * the request common to both APIs; {@linkcode shellThenAnswer} runs one shell command, then
 * answers with its output.
 *
 * @module
 */

/** The model the stand-in lists and the CLIs are told to use. */
export const FAKE_MODEL = "gpt-5-hookwatch";

/** A tool the CLI advertises, from either API's `tools`. */
export interface AdvertisedTool {
  name: string;
  /** `function`, or Responses' other tool types (`custom`, `local_shell`, `web_search`…). */
  type: string;
  /** The JSON schema of a function tool's arguments. */
  parameters?: {
    properties?: Record<string, unknown>;
    required?: string[];
  };
}

/** The part of a JSON schema {@linkcode fillSchema} reads. */
export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
}

/**
 * A value following `schema`: every property filled, strings with a short text, numbers low,
 * booleans false, enums with the `prefer`red value where it is one of them, else the first.
 */
export function fillSchema(
  schema: JsonSchema,
  prefer: Record<string, unknown> = {},
  key = "",
): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return key in prefer && schema.enum.includes(prefer[key])
      ? prefer[key]
      : schema.enum[0];
  }
  const type = String(schema.type ?? "").toLowerCase();
  if (type === "object" || schema.properties) {
    return Object.fromEntries(
      Object.entries(schema.properties ?? {}).map((
        [k, sub],
      ) => [
        k,
        k in prefer && !sub.enum ? prefer[k] : fillSchema(sub, prefer, k),
      ]),
    );
  }
  if (type === "integer" || type === "number") return 1;
  if (type === "boolean") return false;
  if (type === "array") return [];
  return "hookwatch stand-in";
}

/** A tool result the conversation carries back to the model. */
export interface ToolOutput {
  callId: string;
  output: string;
}

/** The request, as a script sees it (either API). */
export interface Turn {
  api: "responses" | "chat";
  model: string;
  tools: AdvertisedTool[];
  /** Every tool result in the conversation, oldest first. */
  toolOutputs: ToolOutput[];
  /** The text of the user messages, oldest first. */
  userTexts: string[];
  /** The system prompt / instructions. */
  instructions: string;
  /**
   * The JSON schema the answer must follow (Responses `text.format` or Chat Completions
   * `response_format` of type `json_schema`), e.g. Codex's automatic approval reviewer's.
   */
  outputSchema?: JsonSchema;
  body: Record<string, unknown>;
}

/** One answer of the fake model: a text, or one function call. */
export type Reply =
  | { kind: "text"; text: string; usage?: Partial<Usage> }
  | {
    kind: "call";
    name: string;
    /** The function's arguments (sent JSON-encoded). */
    arguments: Record<string, unknown>;
    callId?: string;
    usage?: Partial<Usage>;
  };

/** Token usage (the Responses names; Chat Completions' are derived). */
export interface Usage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

/** Decides the next reply. Throwing answers 400 and is recorded in `errors`. */
export type Script = (turn: Turn) => Reply;

/** One request the stand-in received. */
export interface RecordedRequest {
  method: string;
  /** Path with query. */
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body; null when there was none or it was not JSON. */
  body: Record<string, unknown> | null;
  reply?: Reply & { callId?: string };
  usage?: Usage;
  status: number;
  at: number;
}

/** A running stand-in. */
export interface FakeOpenAI {
  /** `http://127.0.0.1:PORT` (append `/v1` for a base URL). */
  url: string;
  requests: RecordedRequest[];
  /** What the script refused. */
  errors: string[];
  /** Requests it did not know (method and path), e.g. a telemetry or listing call. */
  unknown: string[];
  close(): Promise<void>;
}

/** Options of {@linkcode startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  script?: Script;
  /**
   * Send the usage chunk of a streamed chat completion even when the request did not ask for
   * it with `stream_options.include_usage`. Default true.
   */
  alwaysChatUsage?: boolean;
}

/** The shell command {@linkcode shellThenAnswer} runs unless told otherwise. */
export const PROBE_COMMAND = "echo hookwatch-probe";

/**
 * The arguments of a call to the CLI's shell tool running `command`, shaped after the tool's
 * advertised schema: Codex's `exec_command` (`cmd`), `shell` (`command` as an argv) or
 * `shell_command` (`command` as a string), Copilot's `bash` (`command`, `description`).
 * `extra` adds arguments (e.g. Codex's `sandbox_permissions`) the schema must name.
 * Throws when the CLI offers no shell tool.
 */
export function shellCall(
  turn: Turn,
  command: string,
  extra: Record<string, unknown> = {},
): Reply {
  const byName = new Map(turn.tools.map((t) => [t.name, t]));
  const pick = ["exec_command", "shell_command", "shell", "bash", "Bash"]
    .map((n) => byName.get(n)).find((t) => t !== undefined);
  if (!pick) {
    throw new Error(
      `the CLI offers no shell tool; it offers ${
        turn.tools.map((t) => `${t.name} (${t.type})`).join(", ") || "none"
      }`,
    );
  }
  const props = pick.parameters?.properties ?? {};
  const args: Record<string, unknown> = {};
  if ("cmd" in props) args.cmd = command;
  else if (pick.name === "shell") args.command = ["bash", "-lc", command];
  else args.command = command;
  if ("description" in props) args.description = "Print a probe line";
  Object.assign(args, extra);
  for (const key of pick.parameters?.required ?? []) {
    if (!(key in args)) throw new Error(`${pick.name} needs ${key}`);
  }
  for (const key of Object.keys(args)) {
    if (!(key in props)) {
      throw new Error(
        `${pick.name} has no argument ${key} (it takes ${
          Object.keys(props).join(", ")
        })`,
      );
    }
  }
  return { kind: "call", name: pick.name, arguments: args };
}

/** Options of {@linkcode shellThenAnswer}. */
export interface ShellScriptOptions {
  /** Default {@linkcode PROBE_COMMAND}. */
  command?: string;
  /** More arguments of the shell call, see {@linkcode shellCall}. */
  extra?: Record<string, unknown>;
  /** The final answer; default `TOOL RESULT: <the tool output as JSON>`. */
  finalText?: (outputs: ToolOutput[]) => string;
  /**
   * What a request with an output schema gets (Codex's automatic approval reviewer, the
   * "guardian", asks for `{outcome: "allow" | "deny", risk_level, …}`): the schema filled with
   * these values preferred. Default `{outcome: "allow", risk_level: "low"}`.
   */
  structured?: Record<string, unknown>;
}

/**
 * The turn hookwatch's agent tests script: the first answer is one shell call; once a tool
 * result came back, a final text. Requests with an output schema get a JSON answer following
 * it (see {@linkcode ShellScriptOptions.structured}); requests that advertise no tools (a
 * title, a summary) a short text.
 */
export function shellThenAnswer(options: ShellScriptOptions = {}): Script {
  const command = options.command ?? PROBE_COMMAND;
  const structured = options.structured ??
    { outcome: "allow", risk_level: "low", user_authorization: "high" };
  return (turn) => {
    if (turn.outputSchema) {
      return {
        kind: "text",
        text: JSON.stringify(fillSchema(turn.outputSchema, structured)),
      };
    }
    if (turn.tools.length === 0) return { kind: "text", text: "Probe" };
    if (turn.toolOutputs.length === 0) {
      return shellCall(turn, command, options.extra);
    }
    return {
      kind: "text",
      text: options.finalText?.(turn.toolOutputs) ??
        `TOOL RESULT: ${JSON.stringify(turn.toolOutputs.at(-1)?.output)}`,
    };
  };
}

let idCounter = 0;
function newId(prefix: string): string {
  idCounter++;
  return `${prefix}_${Date.now().toString(36)}${
    idCounter.toString(36).padStart(4, "0")
  }`;
}

function halves(s: string): string[] {
  if (s.length < 2) return [s];
  const mid = s.length >> 1;
  return [s.slice(0, mid), s.slice(mid)];
}

// deno-lint-ignore no-explicit-any -- request bodies are walked defensively
type Raw = any;

function textOfContent(content: Raw): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((c) =>
    typeof c === "string" ? c : typeof c?.text === "string" ? c.text : ""
  ).join("\n");
}

function outputText(output: Raw): string {
  if (typeof output === "string") return output;
  if (Array.isArray(output)) return textOfContent(output);
  if (output && typeof output.content === "string") return output.content;
  return JSON.stringify(output ?? null);
}

/** The {@linkcode Turn} of a Responses request. */
export function responsesTurn(body: Raw): Turn {
  const input: Raw[] = Array.isArray(body.input)
    ? body.input
    : typeof body.input === "string"
    ? [{ type: "message", role: "user", content: body.input }]
    : [];
  return {
    api: "responses",
    model: String(body.model ?? ""),
    tools: (Array.isArray(body.tools) ? body.tools : []).map((t: Raw) => ({
      name: String(t.name ?? t.type),
      type: String(t.type),
      parameters: t.parameters,
    })),
    toolOutputs: input.filter((i) =>
      i?.type === "function_call_output" ||
      i?.type === "custom_tool_call_output" ||
      i?.type === "local_shell_call_output"
    ).map((i) => ({
      callId: String(i.call_id ?? ""),
      output: outputText(i.output),
    })),
    userTexts: input.filter((i) =>
      (i?.type === "message" || i?.type === undefined) && i?.role === "user"
    ).map((i) => textOfContent(i.content)),
    instructions: String(body.instructions ?? ""),
    outputSchema: body.text?.format?.type === "json_schema"
      ? body.text.format.schema ?? {}
      : undefined,
    body,
  };
}

/** The {@linkcode Turn} of a Chat Completions request. */
export function chatTurn(body: Raw): Turn {
  const messages: Raw[] = Array.isArray(body.messages) ? body.messages : [];
  return {
    api: "chat",
    model: String(body.model ?? ""),
    tools: (Array.isArray(body.tools) ? body.tools : []).map((t: Raw) => ({
      name: String(t.function?.name ?? t.name ?? t.type),
      type: String(t.type ?? "function"),
      parameters: t.function?.parameters ?? t.parameters,
    })),
    toolOutputs: messages.filter((m) => m?.role === "tool").map((m) => ({
      callId: String(m.tool_call_id ?? ""),
      output: textOfContent(m.content),
    })),
    userTexts: messages.filter((m) => m?.role === "user").map((m) =>
      textOfContent(m.content)
    ),
    instructions: messages.filter((m) =>
      m?.role === "system" || m?.role === "developer"
    ).map((m) => textOfContent(m.content)).join("\n"),
    outputSchema: body.response_format?.type === "json_schema"
      ? body.response_format.json_schema?.schema ?? {}
      : undefined,
    body,
  };
}

function usageFor(body: Raw, reply: Reply): Usage {
  const prompt = Math.ceil(JSON.stringify(body ?? {}).length / 4);
  const output = Math.ceil(JSON.stringify(reply).length / 4) + 8;
  const cached = Math.floor(prompt * 0.5);
  return {
    input_tokens: prompt,
    cached_tokens: cached,
    output_tokens: output,
    reasoning_tokens: 0,
    ...reply.usage,
  };
}

/** The SSE frames of one streamed Responses answer. */
export function responsesFrames(
  model: string,
  reply: Reply & { callId?: string },
  usage: Usage,
): string[] {
  let seq = 0;
  const frame = (data: Record<string, unknown>) =>
    `event: ${data.type}\ndata: ${
      JSON.stringify({ ...data, sequence_number: seq++ })
    }\n\n`;
  const id = newId("resp");
  const base = {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model,
    status: "in_progress",
    output: [] as unknown[],
  };
  const frames = [
    frame({ type: "response.created", response: base }),
    frame({ type: "response.in_progress", response: base }),
  ];
  let item: Record<string, unknown>;
  if (reply.kind === "text") {
    const itemId = newId("msg");
    item = {
      type: "message",
      id: itemId,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: reply.text, annotations: [] }],
    };
    frames.push(
      frame({
        type: "response.output_item.added",
        output_index: 0,
        item: { ...item, status: "in_progress", content: [] },
      }),
      frame({
        type: "response.content_part.added",
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      }),
    );
    for (const delta of halves(reply.text)) {
      frames.push(frame({
        type: "response.output_text.delta",
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta,
      }));
    }
    frames.push(
      frame({
        type: "response.output_text.done",
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        text: reply.text,
      }),
      frame({
        type: "response.content_part.done",
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        part: { type: "output_text", text: reply.text, annotations: [] },
      }),
    );
  } else {
    const itemId = newId("fc");
    const args = JSON.stringify(reply.arguments);
    item = {
      type: "function_call",
      id: itemId,
      status: "completed",
      call_id: reply.callId,
      name: reply.name,
      arguments: args,
    };
    frames.push(frame({
      type: "response.output_item.added",
      output_index: 0,
      item: { ...item, status: "in_progress", arguments: "" },
    }));
    for (const delta of halves(args)) {
      frames.push(frame({
        type: "response.function_call_arguments.delta",
        item_id: itemId,
        output_index: 0,
        delta,
      }));
    }
    frames.push(frame({
      type: "response.function_call_arguments.done",
      item_id: itemId,
      output_index: 0,
      arguments: args,
    }));
  }
  frames.push(
    frame({ type: "response.output_item.done", output_index: 0, item }),
    frame({
      type: "response.completed",
      response: {
        ...base,
        status: "completed",
        output: [item],
        usage: responsesUsage(usage),
      },
    }),
  );
  return frames;
}

function responsesUsage(usage: Usage) {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_tokens },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

function chatUsage(usage: Usage) {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
  };
}

/** The SSE frames of one streamed chat completion. */
export function chatFrames(
  model: string,
  reply: Reply & { callId?: string },
  usage: Usage,
  withUsage: boolean,
): string[] {
  const id = newId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model,
        choices,
        ...extra,
      })
    }\n\n`;
  const frames = [
    chunk([{
      index: 0,
      delta: { role: "assistant", content: "" },
      finish_reason: null,
    }]),
  ];
  if (reply.kind === "text") {
    for (const content of halves(reply.text)) {
      frames.push(
        chunk([{ index: 0, delta: { content }, finish_reason: null }]),
      );
    }
  } else {
    const [first, second] = halves(JSON.stringify(reply.arguments));
    frames.push(chunk([{
      index: 0,
      delta: {
        tool_calls: [{
          index: 0,
          id: reply.callId,
          type: "function",
          function: { name: reply.name, arguments: first },
        }],
      },
      finish_reason: null,
    }]));
    if (second !== undefined) {
      frames.push(chunk([{
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: second } }] },
        finish_reason: null,
      }]));
    }
  }
  frames.push(chunk([{
    index: 0,
    delta: {},
    finish_reason: reply.kind === "text" ? "stop" : "tool_calls",
  }]));
  if (withUsage) frames.push(chunk([], { usage: chatUsage(usage) }));
  frames.push("data: [DONE]\n\n");
  return frames;
}

function sse(frames: string[]): Response {
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream({
      start(controller) {
        for (const f of frames) controller.enqueue(encoder.encode(f));
        controller.close();
      },
    }),
    {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-request-id": newId("req"),
      },
    },
  );
}

function apiError(status: number, message: string, type: string): Response {
  return Response.json(
    { error: { message, type, param: null, code: null } },
    { status },
  );
}

/** Starts the stand-in on 127.0.0.1 and a free port. */
export function startFakeOpenAI(
  options: FakeOpenAIOptions = {},
): Promise<FakeOpenAI> {
  const script = options.script ?? shellThenAnswer();
  const alwaysUsage = options.alwaysChatUsage ?? true;
  const requests: RecordedRequest[] = [];
  const errors: string[] = [];
  const unknown: string[] = [];
  const { promise, resolve } = Promise.withResolvers<FakeOpenAI>();

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const text = await req.text();
    let body: Raw = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch { /* recorded as null */ }
    const record: RecordedRequest = {
      method: req.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body,
      status: 200,
      at: Date.now(),
    };
    requests.push(record);
    const answer = (res: Response) => (record.status = res.status, res);
    const path = url.pathname.replace(/\/+$/, "");

    if (
      req.method === "GET" && (path === "/v1/models" || path === "/models")
    ) {
      return answer(Response.json({
        object: "list",
        data: [{
          id: FAKE_MODEL,
          object: "model",
          created: 1_700_000_000,
          owned_by: "hookwatch",
        }],
      }));
    }
    const api = req.method !== "POST"
      ? null
      : path === "/v1/responses" || path === "/responses"
      ? "responses" as const
      : path === "/v1/chat/completions" || path === "/chat/completions"
      ? "chat" as const
      : null;
    if (!api) {
      unknown.push(`${req.method} ${record.path}`);
      return answer(
        apiError(404, `no ${req.method} ${url.pathname}`, "not_found"),
      );
    }
    if (!body || typeof body !== "object") {
      return answer(apiError(400, "a JSON body is required", "invalid"));
    }
    const turn = api === "responses" ? responsesTurn(body) : chatTurn(body);
    let reply: Reply & { callId?: string };
    try {
      reply = script(turn);
    } catch (error) {
      errors.push((error as Error).message);
      return answer(
        apiError(400, (error as Error).message, "invalid_request_error"),
      );
    }
    if (reply.kind === "call") {
      reply = { ...reply, callId: reply.callId ?? newId("call") };
    }
    const usage = usageFor(body, reply);
    record.reply = reply;
    record.usage = usage;
    const model = turn.model || FAKE_MODEL;
    if (api === "responses") {
      if (body.stream) return answer(sse(responsesFrames(model, reply, usage)));
      const last = responsesFrames(model, reply, usage).at(-1)!;
      const data = JSON.parse(last.slice(last.indexOf("data: ") + 6));
      return answer(Response.json(data.response));
    }
    if (body.stream) {
      const withUsage = alwaysUsage || body.stream_options?.include_usage;
      return answer(sse(chatFrames(model, reply, usage, Boolean(withUsage))));
    }
    return answer(Response.json({
      id: newId("chatcmpl"),
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{
        index: 0,
        message: reply.kind === "text"
          ? { role: "assistant", content: reply.text }
          : {
            role: "assistant",
            content: null,
            tool_calls: [{
              id: reply.callId,
              type: "function",
              function: {
                name: reply.name,
                arguments: JSON.stringify(reply.arguments),
              },
            }],
          },
        finish_reason: reply.kind === "text" ? "stop" : "tool_calls",
      }],
      usage: chatUsage(usage),
    }));
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
