/**
 * The one list of Claude Code hook event types hookwatch knows, and what each means: core
 * (installed by `hooks/install.ts`), priority by default, and the state it puts its session in.
 * Classification, the metrics' `hook_event_type` label and session state read this table; what each type does to tool calls and the inbox is
 * `lib/agents/hook_handlers.ts`, keyed by the same names.
 *
 * @module
 */
import type { AgentState } from "./agents.ts";
import { commonFields } from "./adapters/mod.ts";

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

const TABLE = {
  SessionStart: t(true, false, "idle"),
  SessionEnd: t(true, false, "ended"),
  UserPromptSubmit: t(true, true, "working"),
  PreToolUse: t(true, false, "working"),
  PostToolUse: t(true, false, "working"),
  PostToolUseFailure: t(true, true, "working"),
  PermissionRequest: t(true, true, "waiting"),
  // Waiting, except as `notificationMeaning` says.
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
};

/**
 * Events stored from an agent's own telemetry rather than a hook (`claude_code.api_request`,
 * `claude_code.api_error`) carry this type prefix: they count, but say nothing about the
 * session's state or its app.
 */
export const TELEMETRY_TYPE_PREFIX = "claude_code.";

/** The telemetry event of one model request, with its cost (`payload.cost_usd`). */
export const API_REQUEST_TYPE = `${TELEMETRY_TYPE_PREFIX}api_request`;

/** The type of the event hookwatch stores for each decision on a held permission request. */
export const DECISION_TYPE = "PermissionDecision";

/** True for an event stored from telemetry, not from a hook. */
export function isTelemetryType(hookEventType: string): boolean {
  return hookEventType.startsWith(TELEMETRY_TYPE_PREFIX);
}

/** The name of a known hook event type. */
export type HookTypeName = keyof typeof TABLE;

/** Every known hook event type; an unknown one is regular and leaves the state alone. */
export const HOOK_TYPES: Readonly<Record<HookTypeName, HookType>> = Object
  .freeze(TABLE);

/** True when `name` is a known hook event type. */
export function isHookType(name: string): name is HookTypeName {
  return Object.hasOwn(HOOK_TYPES, name);
}

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

/** What a `Notification` means, by its `notification_type`: written once, read by all. */
export interface NotificationMeaning {
  /** The state it puts its session in; null when it says nothing about the work. */
  state: AgentState | null;
  /** The inbox item it raises (`permission_prompt` raises none: its PermissionRequest does). */
  inbox: "idle" | "elicitation" | null;
}

/**
 * What a `Notification` means: `idle_prompt` (it repeats) that the agent waits for a new
 * prompt, not a decision; `elicitation_dialog` that a person is asked for input;
 * `auth_success` nothing about the work; any other that the agent waits for its user.
 */
export function notificationMeaning(
  payload: { notification_type?: unknown } | null | undefined,
): NotificationMeaning {
  switch (payload?.notification_type) {
    case "idle_prompt":
      return { state: "idle", inbox: "idle" };
    case "elicitation_dialog":
      return { state: "waiting", inbox: "elicitation" };
    case "auth_success":
      return { state: null, inbox: null };
    default:
      return { state: "waiting", inbox: null };
  }
}

/**
 * The state a hook event puts its session in, or null when it says nothing about it: the one
 * session state machine, folded into the store by `lib/agents/`.
 */
export function stateAfter(
  hookEventType: string,
  payload: { notification_type?: unknown } | null | undefined,
): AgentState | null {
  if (!isHookType(hookEventType)) return null;
  if (hookEventType === "Notification") {
    return notificationMeaning(payload).state;
  }
  return HOOK_TYPES[hookEventType].state;
}

/** What the session state machine keeps: the state, since when, and which event set it. */
export interface SessionStateRec {
  state: AgentState;
  /** When it entered `state` (ms). */
  state_at: number;
  /** Timestamp of the event that last set the state (newer events win). */
  state_event_at: number;
}

/** A session's state at its first event, before any event set one: working, since then. */
export function firstState(at: number): SessionStateRec {
  return { state: "working", state_at: at, state_event_at: -1 };
}

/**
 * Moves a session to the state `e` puts it in, unless a newer event said otherwise; any hook
 * event (not telemetry) wakes a `stale` session. The server's fold (`lib/agents/`) and the
 * dashboard's sessions board both move states with it.
 */
export function moveState(
  s: SessionStateRec,
  e: {
    agent?: string | null;
    hook_event_type: string;
    payload: Record<string, unknown> | null | undefined;
    timestamp: number;
  },
): void {
  // The notification's kind as its agent's adapter reads it.
  const next = stateAfter(e.hook_event_type, commonFields(e));
  if (next === null) {
    // A hook event that says nothing of the state still wakes a stale session; telemetry not.
    if (s.state === "stale" && !isTelemetryType(e.hook_event_type)) {
      s.state = "working";
      s.state_at = e.timestamp;
    }
    return;
  }
  if (e.timestamp < s.state_event_at) return;
  s.state_event_at = e.timestamp;
  if (next !== s.state) {
    s.state = next;
    s.state_at = e.timestamp;
  }
}
