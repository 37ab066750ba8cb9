/**
 * Claude Code: its hook inputs are the common event (hookwatch's vocabulary is Claude Code's),
 * read as they are.
 *
 * @module
 */
import {
  type Adapter,
  claudeDecision,
  claudeFields,
  claudeHookInput,
} from "./adapter.ts";

/** Claude Code's adapter. */
export const claude: Adapter = Object.freeze({
  name: "claude-code",
  hookInput: claudeHookInput,
  commonType: (native: string) => native,
  fields: claudeFields,
  decisionOutput: claudeDecision,
  claudeTranscript: true,
});
