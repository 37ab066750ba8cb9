/**
 * GitHub Copilot CLI. Registered under its own camelCase names (`preToolUse` …, as hookwatch
 * installs it) it sends camelCase inputs with **no event name** (the installed hook passes it;
 * `permissionRequest` carries `hookName`, `notification` carries `hook_event_name`), `sessionId`,
 * an epoch-milliseconds `timestamp`, `toolName: "bash"`, `toolArgs` (`toolInput` on
 * `permissionRequest`), `toolResult {resultType, textResultForLlm}`, and no call id (calls are
 * paired by order). Registered under PascalCase names it sends snake_case inputs instead
 * (`hook_event_name`, `session_id`, an ISO `timestamp`, `tool_name: "Bash"`, `tool_input`,
 * `tool_result {result_type, text_result_for_llm}`); both are read. It answers a
 * `permissionRequest` with `{"behavior": "allow" | "deny", "message"}`.
 *
 * @module
 */
import {
  type Adapter,
  claudeFields,
  type CommonFields,
  type Decision,
  type HookInput,
  millis,
  obj,
  str,
} from "./adapter.ts";

const EVENTS: Readonly<Record<string, string>> = {
  sessionStart: "SessionStart",
  userPromptSubmitted: "UserPromptSubmit",
  preToolUse: "PreToolUse",
  permissionRequest: "PermissionRequest",
  postToolUse: "PostToolUse",
  postToolUseFailure: "PostToolUseFailure",
  agentStop: "Stop",
  subagentStart: "SubagentStart",
  subagentStop: "SubagentStop",
  preCompact: "PreCompact",
  sessionEnd: "SessionEnd",
  notification: "Notification",
};

/** Copilot CLI's built-in tools with a Claude Code counterpart. */
const TOOLS: Readonly<Record<string, string>> = {
  bash: "Bash",
  view: "Read",
  create: "Write",
  edit: "Edit",
  glob: "Glob",
  grep: "Grep",
  rg: "Grep",
  web_fetch: "WebFetch",
};

function hookInput(
  input: Record<string, unknown>,
  event?: string | null,
): HookInput {
  const camel = "sessionId" in input;
  return {
    session_id: camel ? input.sessionId : input.session_id,
    sessionField: camel ? "sessionId" : "session_id",
    event: event || input.hookName || input.hook_event_name,
    eventField: "event",
    timestamp: millis(input.timestamp),
    model_name: null,
  };
}

/** The tool's result (`toolResult` camelCase, `tool_result` snake_case), unified. */
function result(p: Record<string, unknown>): {
  type: string | null;
  text: string | null;
} | null {
  const camel = obj(p.toolResult);
  if (camel) {
    return { type: str(camel.resultType), text: str(camel.textResultForLlm) };
  }
  const snake = obj(p.tool_result);
  return snake
    ? { type: str(snake.result_type), text: str(snake.text_result_for_llm) }
    : null;
}

function failed(p: Record<string, unknown>): boolean {
  const type = result(p)?.type;
  return type != null && type !== "success";
}

function commonType(native: string, payload: Record<string, unknown>): string {
  const type = EVENTS[native] ?? native;
  return type === "PostToolUse" && failed(payload)
    ? "PostToolUseFailure"
    : type;
}

/** Tool arguments: an object, or (older versions) its JSON text. */
function args(value: unknown): Record<string, unknown> | null {
  if (typeof value !== "string") return obj(value);
  try {
    return obj(JSON.parse(value));
  } catch {
    return null;
  }
}

function fields(p: Record<string, unknown>): CommonFields {
  const f = claudeFields(p);
  const tool = str(p.toolName) ?? f.tool_name;
  f.tool_name = tool === null ? null : TOOLS[tool] ?? tool;
  f.tool_input = args(p.toolArgs ?? p.toolInput) ?? f.tool_input;
  f.tool_response = p.toolResult ?? p.tool_result ?? null;
  if (failed(p)) f.error ??= result(p)?.text ?? "the tool failed";
  f.prompt ??= str(p.initialPrompt) ?? str(p.initial_prompt);
  f.reason ??= str(p.stopReason) ?? str(p.stop_reason);
  f.transcript_path ??= str(p.transcriptPath);
  return f;
}

function decisionOutput(decision: Decision): unknown {
  return decision.behavior === "deny"
    ? { behavior: "deny", message: decision.message ?? "denied in hookwatch" }
    : { behavior: "allow" };
}

/** Copilot CLI's adapter. */
export const copilot: Adapter = Object.freeze({
  name: "copilot-cli",
  hookInput,
  commonType,
  fields,
  decisionOutput,
  claudeTranscript: false,
});
