/**
 * OpenAI Codex CLI: Claude Code's event names and nearly its fields (`session_id`, `turn_id`,
 * `tool_name: "Bash"`, `tool_input`, `tool_use_id` on Pre/PostToolUse, `tool_response` as the
 * command's output text, `last_assistant_message`). No timestamp in any input (the sender's or
 * the server's clock), no call id on `PermissionRequest` (paired by order), and its transcripts
 * are its own rollout files, not Claude Code's. It takes Claude Code's `PermissionRequest`
 * answer.
 *
 * @module
 */
import type { Adapter } from "./adapter.ts";
import { claude } from "./claude.ts";

/** Codex's adapter: Claude Code's, but for its transcripts. */
export const codex: Adapter = Object.freeze({
  ...claude,
  name: "codex",
  claudeTranscript: false,
});
