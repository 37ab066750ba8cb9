/**
 * A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI
 * offline (`ANTHROPIC_BASE_URL`). `POST /v1/messages` answers like the real API: with
 * `stream: true` a Server-Sent Events stream (`message_start`, `ping`, `content_block_*` with
 * `text_delta` / `input_json_delta`, `message_delta`, `message_stop`), else one JSON message;
 * `POST /v1/messages/count_tokens` answers a token count. Every request is recorded.
 *
 * What the "model" answers is decided by a {@linkcode Script} from the conversation so far;
 * {@linkcode agentScenario} is a session with a Bash call, a Read, a subagent and a final text.
 *
 * @module
 */

/** A content block the fake model answers with. */
export type ReplyBlock =
  | { type: "text"; text: string }
  | {
    type: "tool_use";
    name: string;
    input: Record<string, unknown>;
    id?: string;
  };

/** Token usage as the API reports it. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** One answer of the fake model. */
export interface Reply {
  content: ReplyBlock[];
  /** Default: `tool_use` when the content has a tool use, else `end_turn`. */
  stop_reason?: "end_turn" | "tool_use" | "max_tokens" | "stop_sequence";
  /** Overrides the usage computed from the request's size. */
  usage?: Partial<Usage>;
}

/** A content block of a request message. */
export interface ContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}

/** A message of a request's conversation. */
export interface Message {
  role: string;
  content: string | ContentBlock[];
}

/** A tool the CLI advertises. */
export interface Tool {
  name: string;
  description?: string;
  input_schema?: {
    properties?: Record<string, unknown>;
    required?: string[];
  };
}

/** The body of a `POST /v1/messages`. */
export interface MessagesRequest {
  model: string;
  messages: Message[];
  system?: string | { type: string; text: string }[];
  tools?: Tool[];
  stream?: boolean;
  max_tokens?: number;
  [key: string]: unknown;
}

/** Who a Messages request came from, as the scenario tells them apart. */
export type Caller = "main" | "subagent" | "other";

/** One request the fake API received. */
export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body; null when there was none or it was not JSON. */
  body: MessagesRequest | null;
  caller?: Caller;
  reply?: Reply;
  status: number;
  at: number;
}

/** Decides the next reply from a request. Throwing answers 400 and is recorded in `errors`. */
export type Script = (request: MessagesRequest) => Reply & { caller?: Caller };

/** A running fake API. */
export interface FakeAnthropic {
  /** Base URL for `ANTHROPIC_BASE_URL`. */
  url: string;
  requests: RecordedRequest[];
  /** What the script refused (e.g. a tool the CLI did not advertise). */
  errors: string[];
  close(): Promise<void>;
}

/** Text of a message's content (text blocks only). */
export function textOf(content: string | ContentBlock[] | undefined): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  return content.filter((b) => b.type === "text").map((b) => b.text ?? "")
    .join("\n");
}

/** Every `tool_result` block of the conversation, oldest first. */
export function toolResults(request: MessagesRequest): ContentBlock[] {
  return request.messages.flatMap((m) =>
    m.role === "user" && Array.isArray(m.content)
      ? m.content.filter((b) => b.type === "tool_result")
      : []
  );
}

/** The tool of that name from the request's `tools`; throws when the CLI does not offer it. */
export function advertisedTool(request: MessagesRequest, name: string): Tool {
  const tool = request.tools?.find((t) => t.name === name);
  if (!tool) {
    throw new Error(
      `the CLI does not offer the tool ${name}; it offers ${
        (request.tools ?? []).map((t) => t.name).join(", ") || "none"
      }`,
    );
  }
  return tool;
}

/**
 * `input` checked against the tool's advertised schema: every required property given, no
 * property the schema does not name.
 */
export function toolUse(
  request: MessagesRequest,
  name: string,
  input: Record<string, unknown>,
): ReplyBlock {
  const schema = advertisedTool(request, name).input_schema ?? {};
  const known = Object.keys(schema.properties ?? {});
  for (const key of schema.required ?? []) {
    if (!(key in input)) throw new Error(`${name} needs ${key}`);
  }
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw new Error(
        `${name} has no input ${key} (it takes ${known.join(", ")})`,
      );
    }
  }
  return { type: "tool_use", name, input };
}

/**
 * A main agent that runs `steps` (Bash commands) one after another, then answers
 * `TOOL RESULT: <the last result's content as JSON>`. Requests without tools (a title) get a
 * short text.
 */
export function bashSteps(
  steps: { command: string; description: string }[],
): Script {
  return (request) => {
    if (!request.tools?.length) {
      return { caller: "other", content: [{ type: "text", text: "Title" }] };
    }
    const results = toolResults(request);
    if (results.length < steps.length) {
      return {
        caller: "main",
        content: [toolUse(request, "Bash", steps[results.length])],
      };
    }
    return {
      caller: "main",
      content: [{
        type: "text",
        text: `TOOL RESULT: ${JSON.stringify(results.at(-1)?.content)}`,
      }],
    };
  };
}

/** All the request's text: system prompt and messages. */
function requestText(request: MessagesRequest): string {
  const system = typeof request.system === "string"
    ? request.system
    : (request.system ?? []).map((b) => b.text).join("\n");
  return system + "\n" +
    request.messages.map((m) => textOf(m.content)).join("\n");
}

/** The working directory the CLI tells the model about. */
export function workingDirectory(request: MessagesRequest): string | null {
  return /Primary working directory: (\S+)/.exec(requestText(request))?.[1] ??
    null;
}

/** Marks the subagent's prompt, so its requests can be told from the main agent's. */
export const SUBAGENT_MARKER = "[scripted-subagent]";

/** Options of {@linkcode agentScenario}. */
export interface ScenarioOptions {
  /** Start a subagent (the Agent tool) before the final answer. Default true. */
  subagent?: boolean;
  /** The final answer's text. */
  finalText?: string;
}

/**
 * A small but complete session: the main agent runs Bash (`echo hello > out.txt`), Reads the
 * file, starts a subagent (which runs one Bash command and answers), then answers with text.
 * Requests that are neither (no tools, e.g. a title or quota call) get a short text.
 */
export function agentScenario(options: ScenarioOptions = {}): Script {
  const subagent = options.subagent ?? true;
  const finalText = options.finalText ?? "All done: out.txt says hello.";
  return (request) => {
    if (!request.tools?.length) {
      return { caller: "other", content: [{ type: "text", text: "Greeting" }] };
    }
    const firstUser = request.messages.find((m) => m.role === "user");
    const step = toolResults(request).length;
    if (textOf(firstUser?.content).includes(SUBAGENT_MARKER)) {
      return step === 0
        ? {
          caller: "subagent",
          content: [
            { type: "text", text: "Reading the file." },
            toolUse(request, "Bash", {
              command: "cat out.txt",
              description: "Show the file",
            }),
          ],
        }
        : {
          caller: "subagent",
          content: [{ type: "text", text: "The file says hello." }],
        };
    }
    const cwd = workingDirectory(request);
    if (!cwd) throw new Error("the request names no working directory");
    const steps: (() => ReplyBlock[])[] = [
      () => [
        { type: "text", text: "I will write the file." },
        toolUse(request, "Bash", {
          command: "echo hello > out.txt",
          description: "Write hello to a file",
        }),
      ],
      () => [toolUse(request, "Read", { file_path: `${cwd}/out.txt` })],
    ];
    if (subagent) {
      steps.push(() => {
        const schema = advertisedTool(request, "Agent").input_schema;
        const input: Record<string, unknown> = {
          description: "Check the file",
          prompt: `${SUBAGENT_MARKER} Print out.txt and say what it holds.`,
          subagent_type: "general-purpose",
        };
        // Run it in the foreground, so the turn ends only after the subagent did.
        if (schema?.properties?.run_in_background) {
          input.run_in_background = false;
        }
        return [toolUse(request, "Agent", input)];
      });
    }
    if (step < steps.length) return { caller: "main", content: steps[step]() };
    return { caller: "main", content: [{ type: "text", text: finalText }] };
  };
}

function usageFor(
  request: MessagesRequest,
  reply: Reply,
): Usage {
  const promptTokens = Math.ceil(
    JSON.stringify([request.system, request.tools, request.messages]).length /
      4,
  );
  const output = Math.ceil(JSON.stringify(reply.content).length / 4) + 8;
  const input = Math.min(promptTokens, 12);
  // The first call of a conversation writes the prompt cache; later ones read most of it.
  const followUp = request.messages.some((m) => m.role === "assistant");
  const cacheRead = followUp ? Math.floor((promptTokens - input) * 0.9) : 0;
  return {
    input_tokens: input,
    cache_creation_input_tokens: promptTokens - input - cacheRead,
    cache_read_input_tokens: cacheRead,
    output_tokens: output,
    ...reply.usage,
  };
}

function stopReason(reply: Reply): string {
  return reply.stop_reason ??
    (reply.content.some((b) => b.type === "tool_use")
      ? "tool_use"
      : "end_turn");
}

let idCounter = 0;
function newId(prefix: string): string {
  idCounter++;
  return `${prefix}_${Date.now().toString(36)}${
    idCounter.toString(36).padStart(4, "0")
  }`;
}

function withIds(reply: Reply): Reply {
  return {
    ...reply,
    content: reply.content.map((b) =>
      b.type === "tool_use" ? { ...b, id: b.id ?? newId("toolu") } : b
    ),
  };
}

function halves(s: string): string[] {
  if (s.length < 2) return [s];
  const mid = s.length >> 1;
  return [s.slice(0, mid), s.slice(mid)];
}

/** The SSE frames of one streamed answer. */
export function sseFrames(
  model: string,
  reply: Reply,
  usage: Usage,
): string[] {
  const frame = (data: { type: string }) =>
    `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  const frames = [
    frame({
      type: "message_start",
      message: {
        id: newId("msg"),
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    } as { type: string }),
    frame({ type: "ping" }),
  ];
  reply.content.forEach((block, index) => {
    if (block.type === "text") {
      frames.push(frame({
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      } as { type: string }));
      for (const text of halves(block.text)) {
        frames.push(frame({
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text },
        } as { type: string }));
      }
    } else {
      frames.push(frame({
        type: "content_block_start",
        index,
        content_block: {
          type: "tool_use",
          id: block.id,
          name: block.name,
          input: {},
        },
      } as { type: string }));
      for (const partial_json of halves(JSON.stringify(block.input))) {
        frames.push(frame({
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json },
        } as { type: string }));
      }
    }
    frames.push(
      frame({ type: "content_block_stop", index } as { type: string }),
    );
  });
  frames.push(
    frame({
      type: "message_delta",
      delta: { stop_reason: stopReason(reply), stop_sequence: null },
      usage,
    } as { type: string }),
    frame({ type: "message_stop" }),
  );
  return frames;
}

function apiError(status: number, type: string, message: string): Response {
  return Response.json(
    { type: "error", error: { type, message } },
    { status },
  );
}

/** Starts the fake API on 127.0.0.1 and a free port. */
export function startFakeAnthropic(
  options: { script?: Script } = {},
): Promise<FakeAnthropic> {
  const script = options.script ?? agentScenario();
  const requests: RecordedRequest[] = [];
  const errors: string[] = [];
  const encoder = new TextEncoder();
  const { promise, resolve } = Promise.withResolvers<FakeAnthropic>();

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const text = await req.text();
    let body: MessagesRequest | null = null;
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

    if (req.method !== "POST") {
      return answer(apiError(404, "not_found_error", `no ${url.pathname}`));
    }
    if (url.pathname === "/v1/messages/count_tokens") {
      const tokens = body
        ? Math.ceil(
          JSON.stringify([body.system, body.tools, body.messages]).length / 4,
        )
        : 0;
      return answer(Response.json({ input_tokens: tokens }));
    }
    if (url.pathname !== "/v1/messages") {
      return answer(apiError(404, "not_found_error", `no ${url.pathname}`));
    }
    if (!body || !Array.isArray(body.messages)) {
      return answer(
        apiError(400, "invalid_request_error", "messages: required"),
      );
    }
    let scripted: Reply & { caller?: Caller };
    try {
      scripted = script(body);
    } catch (error) {
      errors.push((error as Error).message);
      return answer(
        apiError(400, "invalid_request_error", (error as Error).message),
      );
    }
    const { caller, ...rest } = scripted;
    const reply = withIds(rest);
    record.caller = caller;
    record.reply = reply;
    const usage = usageFor(body, reply);
    if (!body.stream) {
      return answer(Response.json({
        id: newId("msg"),
        type: "message",
        role: "assistant",
        model: body.model,
        content: reply.content.map((b) =>
          b.type === "text" ? b : { ...b, type: "tool_use" }
        ),
        stop_reason: stopReason(reply),
        stop_sequence: null,
        usage,
      }));
    }
    const frames = sseFrames(body.model, reply, usage);
    return answer(
      new Response(
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
            "request-id": newId("req"),
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
        close: async () => {
          await server.shutdown();
        },
      });
    },
  }, handle);
  return promise;
}
