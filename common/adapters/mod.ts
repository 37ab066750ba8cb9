/**
 * The agent adapters, by agent name, and the two things everything else asks them: what a
 * native event is called in common ({@linkcode commonEvent}, at ingest) and an event's common
 * fields ({@linkcode commonFields}, downstream). Nothing outside this folder reads an agent's own
 * fields or branches on the agent.
 *
 * @module
 */
import type { Adapter, CommonFields } from "./adapter.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex.ts";
import { gemini } from "./gemini.ts";
import { copilot } from "./copilot.ts";
import { type AgentName, DEFAULT_AGENT } from "./names.ts";

export type { Adapter, CommonFields, Decision, HookInput } from "./adapter.ts";
export {
  AGENT_NAMES,
  type AgentInfo,
  agentLabel,
  type AgentName,
  agentOfFlag,
  AGENTS,
  DEFAULT_AGENT,
  isAgentName,
} from "./names.ts";

const ADAPTERS: Readonly<Record<AgentName, Adapter>> = Object.freeze({
  "claude-code": claude,
  codex,
  "gemini-cli": gemini,
  "copilot-cli": copilot,
});

/** The adapter of an agent; Claude Code's for an event that names none (or an unknown one). */
export function adapterOf(agent: string | null | undefined): Adapter {
  return (agent != null && Object.hasOwn(ADAPTERS, agent))
    ? ADAPTERS[agent as AgentName]
    : ADAPTERS[DEFAULT_AGENT];
}

/** An event's common type, and the agent's own name for it when that differs. */
export interface CommonEvent {
  hook_event_type: string;
  agent_event: string | null;
}

/**
 * The common (Claude Code) type of an agent's event named `native`, and `agent_event`: the
 * native name when it differs (an `agent_event` already given is kept). A common name stays as
 * it is, so mapping twice (the sender, then the server) changes nothing.
 */
export function commonEvent(
  agent: string | null | undefined,
  native: string,
  payload: Record<string, unknown>,
  agentEvent: string | null = null,
): CommonEvent {
  const type = adapterOf(agent).commonType(native, payload);
  return {
    hook_event_type: type,
    agent_event: agentEvent ?? (type === native ? null : native),
  };
}

/** What {@linkcode commonFields} reads of an event. */
export interface AgentEvent {
  agent?: string | null;
  hook_event_type: string;
  payload: Record<string, unknown> | null | undefined;
}

// The payloads read lately: the fold reads a batch's events in three passes (tally, the calls
// to load, the fold), several times each. Bounded and cleared whole, not a WeakMap: a WeakMap
// of every payload cost more in GC than reading a payload again costs.
const recent = new Map<object, CommonFields>();
const RECENT_MAX = 1024;

/**
 * The common fields of an event, read by its agent's adapter from the payload as the agent sent
 * it (the payload is never changed after ingest); read again only for another payload.
 *
 * @example
 * ```ts
 * commonFields({ agent: "gemini-cli", hook_event_type: "PreToolUse", payload }).tool_name;
 * // "Bash" (Gemini's run_shell_command)
 * ```
 */
export function commonFields(e: AgentEvent): CommonFields {
  const payload = e.payload ?? {};
  let fields = recent.get(payload);
  if (fields === undefined) {
    fields = adapterOf(e.agent).fields(payload, e.hook_event_type);
    if (recent.size >= RECENT_MAX) recent.clear();
    recent.set(payload, fields);
  }
  return fields;
}
