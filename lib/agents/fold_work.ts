/**
 * What the fold works on for one session, and the moves every hook type's handler is made of:
 * touch the session and move its state, start, find and finish a tool call, check for a loop,
 * raise and resolve inbox items. Pure.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import { firstState, isTelemetryType } from "../../common/hook_types.ts";
import { type AgentName, DEFAULT_AGENT } from "../../common/adapters/names.ts";
import { type CommonFields, commonFields } from "../../common/adapters/mod.ts";
import {
  type AgentState,
  INBOX_KINDS,
  type InboxKind,
  type InboxStatus,
  type ToolCall,
  type ToolOutcome,
} from "../../common/agents.ts";
import type { AgentConfig } from "../base/agent_config.ts";
import { callSignature, inputSummary, oneLine } from "./patterns.ts";

// The one session state machine, shared with the dashboard's sessions board.
export { moveState as setState } from "../../common/hook_types.ts";

/** Pattern state kept per session. */
export interface PatternState {
  /** Consecutive failed tool calls. */
  streak: number;
  /** Per agent (`""` main): signature of the last call and how many times in a row. */
  loops: Record<string, [string, number]>;
  /** USD counted from `claude_code.api_request` events. */
  cost: number;
  /** True once the budget item was raised. */
  budget: boolean;
}

/** A session as the fold keeps it. */
export interface SessionRec {
  session_id: string;
  source_app: string | null;
  /** The coding agent whose session it is (from its hook events). */
  agent: AgentName;
  state: AgentState;
  /** When it entered `state`. */
  state_at: number;
  /** Timestamp of the event that last set the state (newer events win). */
  state_event_at: number;
  last_event_at: number;
  patterns: PatternState;
}

/**
 * A tool call as the fold keeps it: the served {@linkcode ToolCall} with `agent` (`""` for the
 * main agent) for `agent_id`, and the signature loops and permissions are matched by.
 */
export interface CallRec extends Omit<ToolCall, "agent_id"> {
  agent: string;
  sig: string;
}

/** An unresolved inbox item as the fold keeps it; `id` null until stored. */
export interface ItemRec {
  id: number | null;
  /** Unique among unresolved items: repeats of the same thing are one item. */
  key: string;
  kind: InboxKind;
  session_id: string;
  source_app: string | null;
  agent: string;
  tool_use_id: string | null;
  event_id: number | null;
  since: number;
  reason: string;
  status: InboxStatus;
}

/** One pattern alert raised, for the counters. */
export interface Raised {
  kind: InboxKind;
  rule?: string;
}

/** What the fold reads and writes for one session. */
export interface SessionWork {
  session: SessionRec | null;
  /** By {@linkcode callKey}. */
  calls: Map<string, CallRec>;
  /** Unresolved items by key. */
  items: Map<string, ItemRec>;
  /** Outputs. */
  sessionDirty: boolean;
  dirtyCalls: Set<CallRec>;
  newItems: ItemRec[];
  resolved: ItemRec[];
  /** Stored items that learned their tool call (`tool_use_id`). */
  paired: ItemRec[];
  raised: Raised[];
  /** Tool failures seen (counter). */
  failures: number;
}

/** The map key of a tool call. */
export function callKey(agent: string, toolUseId: string): string {
  return `${agent}\n${toolUseId}`;
}

/** A fresh {@linkcode SessionWork} around loaded rows. */
export function newWork(
  session: SessionRec | null,
  calls: Iterable<CallRec>,
  items: Iterable<ItemRec>,
): SessionWork {
  return {
    session,
    calls: new Map([...calls].map((c) => [callKey(c.agent, c.tool_use_id), c])),
    items: new Map([...items].map((i) => [i.key, i])),
    sessionDirty: false,
    dirtyCalls: new Set(),
    newItems: [],
    resolved: [],
    paired: [],
    raised: [],
    failures: 0,
  };
}

/** A non-empty string, or null. */
export function str(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** A whole non-negative number of milliseconds, or null. */
export function ms(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? Math.round(value)
    : null;
}

/** The event's common fields (its agent's adapter reads them from the payload). */
export function fieldsOf(e: StoredEvent): CommonFields {
  return commonFields(e);
}

/** The tool call id an event names (for loading their calls first); null when it names none. */
export function toolUseIdOf(e: StoredEvent): string | null {
  return fieldsOf(e).tool_use_id?.slice(0, 256) ?? null;
}

/**
 * The id a tool call gets when its agent passes none (Gemini, Copilot): its `PreToolUse`'s
 * stored id, so the calls of a session are numbered in the order they started.
 */
export function syntheticId(e: StoredEvent): string {
  return `#${e.id}`;
}

/**
 * A `PermissionRequest` that came before its `PreToolUse` (the http decide hook answers at
 * once; the command hooks' sender delivers a moment later) raised an item with no tool call:
 * the call that starts now with the same tool and input is the one it asked about.
 */
export function pairPermission(work: SessionWork, c: CallRec): void {
  if (c.permission_at !== null) return;
  const reason = oneLine(
    c.input_summary ? `${c.tool_name}: ${c.input_summary}` : "",
  );
  for (const item of work.items.values()) {
    if (
      item.kind !== "permission" || item.tool_use_id !== null ||
      item.agent !== c.agent || item.reason !== reason
    ) continue;
    item.tool_use_id = c.tool_use_id;
    c.permission_at = item.since;
    if (item.id !== null) work.paired.push(item);
    return;
  }
}

/** Kinds an agent moving on to a new prompt resolves (alerts about deeds wait for a person). */
export const RESOLVED_BY_PROMPT: ReadonlySet<InboxKind> = new Set(
  INBOX_KINDS.filter((kind) => kind !== "dangerous" && kind !== "budget"),
);

/** What `SessionEnd` resolves: everything but the deed alerts. */
export const RESOLVED_BY_END: ReadonlySet<InboxKind> = RESOLVED_BY_PROMPT;

/**
 * Resolves the unresolved items `test` picks (dropping those raised in this batch). With
 * `asOf`, the time of the event that moves the session on, items raised after it stay: an event
 * that arrives late (its sender was slow to start, or replayed it) does not answer a request
 * made after it happened.
 */
export function resolveWhere(
  work: SessionWork,
  test: (item: ItemRec) => boolean,
  asOf = Infinity,
): void {
  for (const [key, item] of work.items) {
    if (item.since > asOf || !test(item)) continue;
    work.items.delete(key);
    const fresh = work.newItems.indexOf(item);
    // Raised and resolved within one batch: it never needed anyone.
    if (fresh >= 0) work.newItems.splice(fresh, 1);
    else work.resolved.push(item);
  }
}

/** Raises an inbox item for `e`, unless one with `key` is unresolved already. */
export function raise(
  work: SessionWork,
  e: StoredEvent,
  kind: InboxKind,
  key: string,
  reason: string,
  toolUseId: string | null = null,
  rule?: string,
): void {
  if (work.items.has(key)) return;
  const item: ItemRec = {
    id: null,
    key,
    kind,
    session_id: e.session_id,
    source_app: e.source_app,
    agent: e.agent_id ?? "",
    tool_use_id: toolUseId,
    event_id: e.id,
    since: e.timestamp,
    reason: oneLine(reason),
    status: "open",
  };
  work.items.set(key, item);
  work.newItems.push(item);
  work.raised.push(rule ? { kind, rule } : { kind });
}

/** The event's session, created on its first event, its last event time moved on. */
export function touchSession(work: SessionWork, e: StoredEvent): SessionRec {
  let s = work.session;
  if (!s) {
    s = {
      session_id: e.session_id,
      source_app: e.source_app,
      agent: e.agent ?? DEFAULT_AGENT,
      ...firstState(e.timestamp),
      last_event_at: e.timestamp,
      patterns: { streak: 0, loops: {}, cost: 0, budget: false },
    };
    work.session = s;
  }
  work.sessionDirty = true;
  if (!isTelemetryType(e.hook_event_type)) {
    s.source_app = e.source_app;
    s.agent = e.agent ?? DEFAULT_AGENT;
  }
  s.last_event_at = Math.max(s.last_event_at, e.timestamp);
  return s;
}

/** A new call; `signed`: with the signature loops and permissions are matched by. */
export function newCall(
  e: StoredEvent,
  agent: string,
  id: string,
  signed = false,
): CallRec {
  const f = fieldsOf(e);
  return {
    session_id: e.session_id,
    agent,
    tool_use_id: id,
    tool_name: f.tool_name?.slice(0, 128) ?? "?",
    input_summary: inputSummary(f.tool_input),
    sig: signed ? callSignature(f.tool_name ?? "", f.tool_input) : "",
    outcome: "running",
    started_at: null,
    permission_at: null,
    ended_at: null,
    tool_ms: null,
    wait_ms: null,
    error: null,
  };
}

/**
 * The call a `PermissionRequest` or `PermissionDenied` without a `tool_use_id` is about: the
 * newest running call of the same agent and tool, the same input preferred.
 */
export function callFor(
  work: SessionWork,
  e: StoredEvent,
  agent: string,
): CallRec | null {
  const id = toolUseIdOf(e);
  if (id !== null) return work.calls.get(callKey(agent, id)) ?? null;
  const f = fieldsOf(e);
  const candidates = [...work.calls.values()].filter((c) =>
    c.agent === agent && c.outcome === "running" &&
    c.tool_name === f.tool_name
  );
  if (candidates.length <= 1) return candidates[0] ?? null;
  const sig = callSignature(f.tool_name ?? "", f.tool_input);
  let best: CallRec | null = null;
  for (const c of candidates) {
    const better = best === null || (c.sig === sig && best.sig !== sig) ||
      ((c.sig === sig) === (best.sig === sig) &&
        (c.started_at ?? 0) > (best.started_at ?? 0));
    if (better) best = c;
  }
  return best;
}

/**
 * The call an outcome without a call id ends (Gemini, Copilot): the oldest running call of the
 * same agent, the same tool preferred; null when none is running.
 */
export function oldestRunning(
  work: SessionWork,
  e: StoredEvent,
  agent: string,
): CallRec | null {
  const tool = fieldsOf(e).tool_name;
  let best: CallRec | null = null;
  for (const c of work.calls.values()) {
    if (c.agent !== agent || c.outcome !== "running") continue;
    const better = best === null ||
      (c.tool_name === tool && best.tool_name !== tool) ||
      ((c.tool_name === tool) === (best.tool_name === tool) &&
        startOrder(c, best) < 0);
    if (better) best = c;
  }
  return best;
}

/** Calls in the order they started (numbered calls by number when their times are equal). */
function startOrder(a: CallRec, b: CallRec): number {
  const seq = (c: CallRec) =>
    c.tool_use_id.startsWith("#") ? Number(c.tool_use_id.slice(1)) : Infinity;
  return (a.started_at ?? 0) - (b.started_at ?? 0) || seq(a) - seq(b);
}

/** Ends a call with `outcome`: its times, tool and wait durations, its error; resolves its items. */
export function finish(
  work: SessionWork,
  c: CallRec,
  e: StoredEvent,
  outcome: ToolOutcome,
): void {
  const end = e.timestamp;
  const f = fieldsOf(e);
  const duration = ms(f.duration_ms);
  c.outcome = outcome;
  c.ended_at = end;
  if (c.started_at === null) {
    c.started_at = duration !== null ? end - duration : end;
  }
  if (c.permission_at !== null) {
    // The dialog closed when the tool started (its duration before the end), or at the end.
    const decided = duration !== null
      ? Math.max(c.permission_at, end - duration)
      : end;
    c.wait_ms = Math.max(0, decided - c.permission_at);
  } else c.wait_ms = 0;
  c.tool_ms = outcome === "denied" ? 0 : duration ??
    (c.permission_at !== null ? null : Math.max(0, end - c.started_at));
  if (outcome === "failed") {
    c.error = f.error ? oneLine(f.error, 500) : null;
  }
  work.dirtyCalls.add(c);
  resolveWhere(
    work,
    (i) =>
      (i.kind === "permission" || i.kind === "orphaned") &&
      i.tool_use_id === c.tool_use_id && i.agent === c.agent,
  );
}

/** Counts the same call made again by the same agent; raises a loop item at the limit. */
export function checkLoop(
  work: SessionWork,
  s: SessionRec,
  e: StoredEvent,
  c: CallRec,
  config: AgentConfig,
): void {
  if (config.loopRepeats === 0) return;
  const last = s.patterns.loops[c.agent];
  const n = last && last[0] === c.sig ? last[1] + 1 : 1;
  s.patterns.loops[c.agent] = [c.sig, n];
  const key = `loop\n${c.agent}`;
  if (n === 1) resolveWhere(work, (i) => i.key === key);
  if (n === config.loopRepeats) {
    raise(
      work,
      e,
      "loop",
      key,
      `${c.tool_name} called ${n} times in a row with the same input: ${c.input_summary}`,
      c.tool_use_id,
    );
  }
}
