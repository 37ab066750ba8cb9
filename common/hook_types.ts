/**
 * The one list of Claude Code hook event types hookwatch knows, and what each means: core
 * (installed by `hooks/install.ts`), priority by default, and the state it puts its session in.
 * Classification, the metrics' `hook_event_type` label, session state and the dashboard's
 * "needs you" all read this table.
 *
 * @module
 */
import type { AgentState } from "./agents.ts";

/** What hookwatch knows about one hook event type. */
export interface HookType {
  /** One of the twelve core types the installer subscribes to. */
  core: boolean;
  /** Priority unless `PRIORITY_EVENT_TYPES` says otherwise. */
  priority: boolean;
  /** The state it puts its session in; null when it says nothing about it. */
  state: AgentState | null;
}

const t = (
  core: boolean,
  priority: boolean,
  state: AgentState | null,
): HookType => Object.freeze({ core, priority, state });

/** Every known hook event type; an unknown one is regular and leaves the state alone. */
export const HOOK_TYPES: Readonly<Record<string, HookType>> = Object.freeze({
  SessionStart: t(true, false, "idle"),
  SessionEnd: t(true, false, "ended"),
  UserPromptSubmit: t(true, true, "working"),
  PreToolUse: t(true, false, "working"),
  PostToolUse: t(true, false, "working"),
  PostToolUseFailure: t(true, true, "working"),
  PermissionRequest: t(true, true, "waiting"),
  // Waiting, except `idle_prompt` (idle) and `auth_success` notifications (see stateAfter).
  Notification: t(true, true, "waiting"),
  SubagentStart: t(true, false, "working"),
  SubagentStop: t(true, true, "working"),
  Stop: t(true, true, "stopped"),
  PreCompact: t(true, false, "working"),
  Elicitation: t(false, true, "waiting"),
  StopFailure: t(false, true, "failed"),
  Setup: t(false, false, null),
  InstructionsLoaded: t(false, false, null),
  UserPromptExpansion: t(false, false, "working"),
  PostToolBatch: t(false, false, "working"),
  PermissionDenied: t(false, false, "working"),
  TaskCreated: t(false, false, "working"),
  TaskCompleted: t(false, false, "working"),
  TeammateIdle: t(false, false, null),
  ConfigChange: t(false, false, null),
  CwdChanged: t(false, false, null),
  FileChanged: t(false, false, null),
  WorktreeCreate: t(false, false, null),
  WorktreeRemove: t(false, false, null),
  PostCompact: t(false, false, "working"),
  ElicitationResult: t(false, false, "working"),
});

function namesWhere(test: (type: HookType) => boolean): readonly string[] {
  return Object.freeze(
    Object.entries(HOOK_TYPES).filter(([, type]) => test(type)).map(([name]) =>
      name
    ),
  );
}

/** The twelve core Claude Code hook event types. */
export const CORE_HOOK_TYPES: readonly string[] = namesWhere((t) => t.core);

/** The hook event types that are priority unless `PRIORITY_EVENT_TYPES` says otherwise. */
export const DEFAULT_PRIORITY_TYPES: readonly string[] = namesWhere((t) =>
  t.priority
);

/**
 * The state a hook event puts its session in, or null when it says nothing about it: the one
 * session state machine, folded into the store by `lib/sessions/agent_fold.ts`. An
 * `idle_prompt` notification means idle (the agent waits for a new prompt, not for a decision);
 * `auth_success` says nothing about the work.
 */
export function stateAfter(
  hookEventType: string,
  payload: Record<string, unknown> | null | undefined,
): AgentState | null {
  if (!Object.hasOwn(HOOK_TYPES, hookEventType)) return null;
  if (hookEventType === "Notification") {
    if (payload?.notification_type === "idle_prompt") return "idle";
    if (payload?.notification_type === "auth_success") return null;
  }
  return HOOK_TYPES[hookEventType].state;
}

/**
 * True when this event, as a session's latest, means the agent waits for its user: a
 * permission request, an elicitation, or a notification other than the repeating idle prompt.
 */
export function waitsForUser(
  hookEventType: string,
  payload: Record<string, unknown> | null | undefined,
): boolean {
  return stateAfter(hookEventType, payload) === "waiting";
}
