/**
 * Google Gemini CLI: its own event names (`BeforeAgent`, `BeforeTool`, `AfterTool`,
 * `AfterAgent`, `PreCompress`), Claude Code's field names otherwise (`session_id`,
 * `hook_event_name`, `tool_name`, `tool_input`, `tool_response {llmContent, returnDisplay}`), an
 * ISO `timestamp`, and no tool call id (calls are paired by order). Its tools have names of
 * their own (`run_shell_command` …): those with a Claude Code counterpart are read under
 * Claude Code's name. `AfterAgent`'s `prompt_response` is not the answer as shown (measured:
 * the last streamed chunk is repeated), so it is not read as one. It has no permission event.
 *
 * @module
 */
import {
  type Adapter,
  claudeFields,
  claudeHookInput,
  type CommonFields,
  errorText,
  type HookInput,
  millis,
  obj,
} from "./adapter.ts";

const EVENTS: Readonly<Record<string, string>> = {
  BeforeAgent: "UserPromptSubmit",
  BeforeTool: "PreToolUse",
  AfterTool: "PostToolUse",
  AfterAgent: "Stop",
  PreCompress: "PreCompact",
};

/** Gemini CLI's built-in tools with a Claude Code counterpart. */
const TOOLS: Readonly<Record<string, string>> = {
  run_shell_command: "Bash",
  read_file: "Read",
  read_many_files: "Read",
  write_file: "Write",
  replace: "Edit",
  glob: "Glob",
  search_file_content: "Grep",
  grep_search: "Grep",
  list_directory: "LS",
  web_fetch: "WebFetch",
  google_web_search: "WebSearch",
};

/** Claude Code's shape, with an ISO timestamp. */
function hookInput(
  input: Record<string, unknown>,
  event?: string | null,
): HookInput {
  return {
    ...claudeHookInput(input, event),
    timestamp: millis(input.timestamp),
  };
}

function commonType(native: string, payload: Record<string, unknown>): string {
  const type = EVENTS[native] ?? native;
  return type === "PostToolUse" &&
      errorText(obj(payload.tool_response)?.error) !== null
    ? "PostToolUseFailure"
    : type;
}

function fields(p: Record<string, unknown>): CommonFields {
  const f = claudeFields(p);
  if (f.tool_name !== null) f.tool_name = TOOLS[f.tool_name] ?? f.tool_name;
  f.error ??= errorText(obj(p.tool_response)?.error);
  // AfterAgent's prompt_response repeats the last streamed chunk: not the answer as shown.
  f.last_assistant_message = null;
  return f;
}

/** Gemini CLI's adapter. */
export const gemini: Adapter = Object.freeze({
  name: "gemini-cli",
  hookInput,
  commonType,
  fields,
  decisionOutput: () => null,
  claudeTranscript: false,
});
