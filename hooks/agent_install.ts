/**
 * Installing and uninstalling hookwatch's hooks for Codex, Gemini CLI or Copilot CLI (one
 * {@linkcode AgentTarget} each): one command hook per event, running `hook.sh` with the agent's
 * name (and, for Copilot, the event's), as for Claude Code; with `--decisions`, the agent's
 * permission event runs the sender in its waiting mode instead (`hook.sh --decide`), which
 * prints the agent's own answer when a person decided in hookwatch, and nothing otherwise.
 *
 * @module
 */
import {
  AGENT_TARGETS,
  type AgentTarget,
  type Target,
} from "./agent_targets.ts";
import { type Change, installHooks, uninstallHooks } from "./hook_files.ts";
import {
  type CommandOptions,
  hookCommand,
  type Json,
  MARKER,
} from "./settings.ts";
import type { AgentName } from "../common/adapters/names.ts";

export { AGENT_TARGETS, type AgentTarget, type Target };

/** Seconds an agent lets one hook run (`hook.sh` takes milliseconds). */
export const AGENT_HOOK_TIMEOUT_S = 10;

/** What one agent install or uninstall needs from the command line. */
export interface AgentRun {
  action: "install" | "uninstall";
  target: Target;
  dryRun: boolean;
  /** How the hook runs the sender (deno or the compiled binary, the front) and its options. */
  command: CommandOptions;
  /** `--command CMD`: the user's own command instead. */
  custom?: string;
  /** `--decisions`: hold the permission event for this many seconds. */
  decideWaitS?: number;
}

/** The handlers hookwatch installs for `t`, by event. */
export function agentHandlers(
  t: AgentTarget,
  run: AgentRun,
): Record<string, Json> {
  const wanted: Record<string, Json> = {};
  const events = run.decideWaitS !== undefined && t.decideOnly && t.decideEvent
    ? [...t.events, t.decideEvent]
    : t.events;
  for (const event of events) {
    const decide = run.decideWaitS !== undefined && event === t.decideEvent;
    const command = run.custom ?? hookCommand({
      ...run.command,
      agent: t.agent,
      event: t.namesEvent ? event : undefined,
      decideWaitS: decide ? run.decideWaitS : undefined,
    });
    wanted[event] = t.handler(
      `${command} ${MARKER}`,
      decide ? run.decideWaitS! + AGENT_HOOK_TIMEOUT_S : AGENT_HOOK_TIMEOUT_S,
    );
  }
  return wanted;
}

/** Installs or uninstalls `agent`'s hooks; the change and the file's path. */
export async function runAgent(
  agent: AgentName,
  run: AgentRun,
  env: (name: string) => string | undefined,
): Promise<{ change: Change; target: AgentTarget }> {
  const t = AGENT_TARGETS[agent]!;
  const path = t.path(run.target, env);
  const change = run.action === "install"
    ? await installHooks(path, agentHandlers(t, run), {
      dryRun: run.dryRun,
      shape: t.shape,
    })
    : await uninstallHooks(path, { dryRun: run.dryRun, shape: t.shape });
  return { change, target: t };
}
