/**
 * The coding agents hookwatch takes hook events from: one list, with the name every stored event
 * carries (`agent`), the label the dashboard shows and the short name the installer's `--agent`
 * takes. Browser-safe.
 *
 * @module
 */

/** What one agent is called, stored, shown and installed. */
export interface AgentInfo {
  /** Stored in every event's `agent` and served by `GET /sessions`. */
  name: AgentName;
  /** For people: the dashboard's labels, the docs. */
  label: string;
  /** `deno task hooks:install --agent <flag>`. */
  flag: string;
}

/** Every agent hookwatch knows, Claude Code first (the default). */
export const AGENTS = Object.freeze(
  [
    { name: "claude-code", label: "Claude Code", flag: "claude" },
    { name: "codex", label: "Codex", flag: "codex" },
    { name: "gemini-cli", label: "Gemini CLI", flag: "gemini" },
    { name: "copilot-cli", label: "Copilot CLI", flag: "copilot" },
  ] as const satisfies readonly {
    name: string;
    label: string;
    flag: string;
  }[],
);

/** The name of an agent, as stored. */
export type AgentName = (typeof AGENTS)[number]["name"];

/** Every {@linkcode AgentName}, in {@linkcode AGENTS} order. */
export const AGENT_NAMES: readonly AgentName[] = AGENTS.map((a) => a.name);

/** The agent of an event that names none (every event stored before agents were told apart). */
export const DEFAULT_AGENT: AgentName = "claude-code";

/** True when `value` is the name of a known agent. */
export function isAgentName(value: unknown): value is AgentName {
  return typeof value === "string" &&
    (AGENT_NAMES as readonly string[]).includes(value);
}

/** The agent an installer `--agent` flag names (`claude`, `codex`, …, or a full name), or null. */
export function agentOfFlag(flag: string): AgentInfo | null {
  return AGENTS.find((a) => a.flag === flag || a.name === flag) ?? null;
}

/** The label of an agent (the name itself for one hookwatch does not know). */
export function agentLabel(name: string | null | undefined): string {
  return AGENTS.find((a) => a.name === name)?.label ?? name ?? "";
}
