/**
 * The agent-session fold, pure: given what is known of one session (its activity, its running
 * and mentioned tool calls, its unresolved inbox items) and its newly committed hook events in
 * id order, it pairs tool calls, moves the session's state, runs the pattern checks and raises
 * or resolves inbox items. `lib/sessions/agent_store.ts` loads the inputs and writes the
 * outputs in one transaction, on either store.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import { stateAfter } from "../../common/hook_types.ts";
import type {
  AgentState,
  InboxKind,
  InboxStatus,
  ToolCall,
  ToolOutcome,
} from "../../common/agents.ts";
import type { AgentConfig } from "../base/agent_config.ts";
import {
  callSignature,
  dangerOf,
  inputSummary,
  oneLine,
  rulesOf,
} from "./patterns.ts";

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

function str(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

function ms(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? Math.round(value)
    : null;
}

/** The tool_use_ids an event names (for loading their calls first). */
export function toolUseIdOf(e: StoredEvent): string | null {
  return str(e.payload?.tool_use_id)?.slice(0, 256) ?? null;
}

/**
 * A `PermissionRequest` that came before its `PreToolUse` (the http decide hook answers at
 * once; the command hooks' sender delivers a moment later) raised an item with no tool call:
 * the call that starts now with the same tool and input is the one it asked about.
 */
function pairPermission(work: SessionWork, c: CallRec): void {
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
const RESOLVED_BY_PROMPT: ReadonlySet<InboxKind> = new Set([
  "permission",
  "elicitation",
  "idle",
  "failure",
  "failure_streak",
  "stale",
  "orphaned",
  "loop",
]);

/** What `SessionEnd` resolves: everything but the deed alerts. */
const RESOLVED_BY_END: ReadonlySet<InboxKind> = RESOLVED_BY_PROMPT;

function resolveWhere(
  work: SessionWork,
  test: (item: ItemRec) => boolean,
): void {
  for (const [key, item] of work.items) {
    if (!test(item)) continue;
    work.items.delete(key);
    const fresh = work.newItems.indexOf(item);
    // Raised and resolved within one batch: it never needed anyone.
    if (fresh >= 0) work.newItems.splice(fresh, 1);
    else work.resolved.push(item);
  }
}

function raise(
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

function touchSession(work: SessionWork, e: StoredEvent): SessionRec {
  let s = work.session;
  if (!s) {
    s = {
      session_id: e.session_id,
      source_app: e.source_app,
      state: "working",
      state_at: e.timestamp,
      state_event_at: -1,
      last_event_at: e.timestamp,
      patterns: { streak: 0, loops: {}, cost: 0, budget: false },
    };
    work.session = s;
  }
  work.sessionDirty = true;
  if (!e.hook_event_type.startsWith("claude_code.")) {
    s.source_app = e.source_app;
  }
  s.last_event_at = Math.max(s.last_event_at, e.timestamp);
  return s;
}

function setState(s: SessionRec, e: StoredEvent): void {
  const next = stateAfter(e.hook_event_type, e.payload);
  if (next === null) {
    // Telemetry (or an event that says nothing) still wakes a stale session.
    if (s.state === "stale" && !e.hook_event_type.startsWith("claude_code.")) {
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

/** A new call; `signed`: with the signature loops and permissions are matched by. */
function newCall(
  e: StoredEvent,
  agent: string,
  id: string,
  signed = false,
): CallRec {
  return {
    session_id: e.session_id,
    agent,
    tool_use_id: id,
    tool_name: str(e.payload.tool_name)?.slice(0, 128) ?? "?",
    input_summary: inputSummary(e.payload.tool_input),
    sig: signed
      ? callSignature(String(e.payload.tool_name ?? ""), e.payload.tool_input)
      : "",
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
function callFor(
  work: SessionWork,
  e: StoredEvent,
  agent: string,
): CallRec | null {
  const id = toolUseIdOf(e);
  if (id !== null) return work.calls.get(callKey(agent, id)) ?? null;
  const candidates = [...work.calls.values()].filter((c) =>
    c.agent === agent && c.outcome === "running" &&
    c.tool_name === e.payload.tool_name
  );
  if (candidates.length <= 1) return candidates[0] ?? null;
  const sig = callSignature(
    String(e.payload.tool_name ?? ""),
    e.payload.tool_input,
  );
  let best: CallRec | null = null;
  for (const c of candidates) {
    const better = best === null || (c.sig === sig && best.sig !== sig) ||
      ((c.sig === sig) === (best.sig === sig) &&
        (c.started_at ?? 0) > (best.started_at ?? 0));
    if (better) best = c;
  }
  return best;
}

function finish(
  work: SessionWork,
  c: CallRec,
  e: StoredEvent,
  outcome: ToolOutcome,
): void {
  const end = e.timestamp;
  const duration = ms(e.payload.duration_ms);
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
    c.error = str(e.payload.error)
      ? oneLine(String(e.payload.error), 500)
      : null;
  }
  work.dirtyCalls.add(c);
  resolveWhere(
    work,
    (i) =>
      (i.kind === "permission" || i.kind === "orphaned") &&
      i.tool_use_id === c.tool_use_id && i.agent === c.agent,
  );
}

function checkLoop(
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

function foldEvent(
  work: SessionWork,
  e: StoredEvent,
  config: AgentConfig,
): void {
  {
    const s = touchSession(work, e);
    const p = e.payload ?? {};
    const agent = e.agent_id ?? "";
    const type = e.hook_event_type;
    if (s.state === "stale") resolveWhere(work, (i) => i.kind === "stale");
    setState(s, e);
    switch (type) {
      case "PreToolUse": {
        const id = toolUseIdOf(e);
        if (id === null) break;
        const key = callKey(agent, id);
        let c = work.calls.get(key);
        if (!c) {
          c = newCall(e, agent, id, true);
          work.calls.set(key, c);
        } else if (c.sig === "") {
          // Its outcome came first: the input is the PreToolUse's to say.
          const fresh = newCall(e, agent, id, true);
          c.tool_name = fresh.tool_name;
          c.input_summary = fresh.input_summary || c.input_summary;
          c.sig = fresh.sig;
        }
        c.started_at = e.timestamp;
        work.dirtyCalls.add(c);
        pairPermission(work, c);
        checkLoop(work, s, e, c, config);
        const input = typeof p.tool_input === "object" && p.tool_input !== null
          ? p.tool_input as Record<string, unknown>
          : {};
        const rule = dangerOf(
          c.tool_name,
          input,
          rulesOf(config),
          config.protectedBranches,
        );
        if (rule) {
          raise(
            work,
            e,
            "dangerous",
            `dangerous\n${agent}\n${id}`,
            `${rule.description}: ${c.input_summary}`,
            id,
            rule.name,
          );
        }
        break;
      }
      case "PermissionRequest": {
        const c = callFor(work, e, agent);
        if (c) {
          c.permission_at = e.timestamp;
          work.dirtyCalls.add(c);
        }
        const id = c?.tool_use_id ?? toolUseIdOf(e);
        const tool = str(p.tool_name) ?? c?.tool_name ?? "a tool";
        const what = inputSummary(p.tool_input) || c?.input_summary || "";
        raise(
          work,
          e,
          "permission",
          `permission\n${agent}\n${id ?? e.id}`,
          what ? `${tool}: ${what}` : `permission to use ${tool}`,
          id,
        );
        break;
      }
      case "PermissionDenied": {
        const c = callFor(work, e, agent);
        if (c) finish(work, c, e, "denied");
        else {
          resolveWhere(
            work,
            (i) => i.kind === "permission" && i.agent === agent,
          );
        }
        break;
      }
      case "PostToolUse":
      case "PostToolUseFailure": {
        const id = toolUseIdOf(e);
        const failed = type === "PostToolUseFailure";
        if (id !== null) {
          const key = callKey(agent, id);
          let c = work.calls.get(key);
          if (!c) {
            c = newCall(e, agent, id);
            work.calls.set(key, c);
          }
          finish(work, c, e, failed ? "failed" : "ok");
        }
        if (failed) {
          work.failures++;
          s.patterns.streak++;
          if (
            config.failureStreak > 0 &&
            s.patterns.streak === config.failureStreak
          ) {
            raise(
              work,
              e,
              "failure_streak",
              "failure_streak",
              `${s.patterns.streak} tool calls failed in a row, last ${
                str(p.tool_name) ?? "?"
              }: ${str(p.error) ?? ""}`,
              id,
            );
          }
        } else {
          s.patterns.streak = 0;
          resolveWhere(work, (i) => i.kind === "failure_streak");
        }
        break;
      }
      case "UserPromptSubmit":
        s.patterns.streak = 0;
        s.patterns.loops = {};
        resolveWhere(work, (i) => RESOLVED_BY_PROMPT.has(i.kind));
        break;
      case "Notification":
        if (p.notification_type === "idle_prompt") {
          raise(
            work,
            e,
            "idle",
            "idle",
            str(p.message) ?? "waiting for your input",
          );
        } else if (p.notification_type === "elicitation_dialog") {
          raise(
            work,
            e,
            "elicitation",
            `elicitation\n${agent}`,
            str(p.message) ?? "asks for input",
          );
        }
        break;
      case "Elicitation":
        raise(
          work,
          e,
          "elicitation",
          `elicitation\n${agent}`,
          str(p.message) ??
            `${str(p.mcp_server_name) ?? "an MCP server"} asks for input`,
        );
        break;
      case "ElicitationResult":
        resolveWhere(
          work,
          (i) => i.kind === "elicitation" && i.agent === agent,
        );
        break;
      case "StopFailure":
        raise(
          work,
          e,
          "failure",
          "failure",
          `the turn failed: ${
            str(p.error) ?? str(p.error_type) ?? str(p.reason) ?? "StopFailure"
          }`,
        );
        break;
      case "Stop":
        resolveWhere(
          work,
          (i) =>
            i.kind === "permission" || i.kind === "elicitation" ||
            i.kind === "loop",
        );
        break;
      case "SessionEnd":
        for (const c of work.calls.values()) {
          if (c.outcome !== "running") continue;
          c.outcome = "orphaned";
          work.dirtyCalls.add(c);
        }
        resolveWhere(work, (i) => RESOLVED_BY_END.has(i.kind));
        break;
      case "claude_code.api_request": {
        const cost = typeof p.cost_usd === "number"
          ? p.cost_usd
          : Number(p.cost_usd);
        if (Number.isFinite(cost) && cost > 0) s.patterns.cost += cost;
        if (
          config.sessionBudgetUsd > 0 && !s.patterns.budget &&
          s.patterns.cost >= config.sessionBudgetUsd
        ) {
          s.patterns.budget = true;
          raise(
            work,
            e,
            "budget",
            "budget",
            `spent ${
              s.patterns.cost.toFixed(2)
            } USD, over the ${config.sessionBudgetUsd} USD budget`,
          );
        }
        break;
      }
    }
    // A session that does anything after being idle is no longer idle.
    if (
      type !== "Notification" &&
      stateAfter(e.hook_event_type, e.payload) === "working"
    ) {
      resolveWhere(work, (i) => i.kind === "idle");
    }
  }
}

/**
 * Folds one session's newly committed events (in id order) into `work`.
 *
 * @example
 * ```ts
 * const work = newWork(null, [], []);
 * foldSession(work, events, config);
 * work.dirtyCalls; // the tool calls to write
 * ```
 */
export function foldSession(
  work: SessionWork,
  events: readonly StoredEvent[],
  config: AgentConfig,
): void {
  for (const e of events) {
    try {
      foldEvent(work, e, config);
    } catch (error) {
      // One malformed event must not stop its session's others (nor be retried forever).
      console.error(
        `hookwatch: event ${e.id} not folded into its session:`,
        error,
      );
    }
  }
}
