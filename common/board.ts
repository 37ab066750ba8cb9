/**
 * The sessions board: every session's one state with since when, what it is doing (its newest
 * telling event: the tool and its input, the prompt, the message) and its subagents, in the
 * order a person triages them. A plain value fed events, stream frames and the server's
 * session list; the bucket worker and the server's first paint both build it (through
 * `DashboardState`), so both draw the same board. States move by the server's own state
 * machine (`moveState`), and a silent session turns `stale` by the sweep's rule.
 *
 * @module
 */
import type { AgentState } from "./agents.ts";
import type { StreamEvent } from "./events.ts";
import {
  firstState,
  isTelemetryType,
  moveState,
  type SessionStateRec,
} from "./hook_types.ts";
import type { SessionSummary } from "./sessions.ts";
import { inputSummary, oneLine } from "./text.ts";
import { endReason, lateBy } from "./rows.ts";
import { commonFields, DEFAULT_AGENT } from "./adapters/mod.ts";

/** What a session or subagent is doing, by its newest telling event. Plain text. */
export interface Doing {
  /** The hook event type it comes from. */
  type: string;
  /** A short label: the tool, `prompt`, `finished`, `asks to use Bash` … */
  what: string;
  /** One line: the tool's input, the prompt, the message; may be empty. */
  text: string;
  /** The event's timestamp (ms). */
  at: number;
}

/** A subagent of a session (`agent_id`). */
export interface BoardAgent {
  agent_id: string;
  agent_type: string | null;
  doing: Doing | null;
  /** Its `SubagentStop` was seen. */
  done: boolean;
  last_event_at: number;
}

/** One session on the board. */
export interface BoardSession {
  session_id: string;
  source_app: string | null;
  /** The coding agent whose session it is (`claude-code`, `codex` …). */
  agent: string;
  state: AgentState;
  /** When it entered `state` (ms): the label's age. */
  state_at: number;
  last_event_at: number;
  /** What the main agent is doing; null when no telling event is known. */
  doing: Doing | null;
  /** Subagents, running ones first, then the most recent; at most `BOARD_LIMITS.agents`. */
  agents: BoardAgent[];
  /** Subagents seen in all. */
  agentCount: number;
  /**
   * How late the session's most recently received event arrived (ms), when it arrived late
   * (see {@linkcode lateBy}): its hooks are behind. Null when in time or not known.
   */
  behind_ms: number | null;
}

/** The board as drawn. */
export interface BoardView {
  /** Sessions not ended, in board order (see {@linkcode compareSessions}). */
  sessions: BoardSession[];
  /** Sessions not ended beyond those listed. */
  more: number;
  /** Ended sessions, most recent first, at most `BOARD_LIMITS.ended`. */
  ended: BoardSession[];
  /** Ended sessions in all. */
  endedCount: number;
}

/** How much the board keeps and shows. */
export const BOARD_LIMITS = Object.freeze({
  /** Sessions kept; the least recently active leave first. */
  kept: 300,
  /** Sessions not ended listed. */
  shown: 40,
  /** Ended sessions listed under the fold. */
  ended: 30,
  /** Subagents kept per session. */
  agentsKept: 12,
  /** Subagents listed per session. */
  agents: 3,
});

/**
 * Where a state sorts: a session that needs a person first (`waiting` for a permission or an
 * answer, `failed` with an error), then `working`, then the rest (`stopped`, `idle`, `stale`)
 * by recency, and `ended` folded away. `stale` is not in the first group: the sweep marks any
 * silent session stale, finished ones too, and one that went silent while working or waiting
 * already has its "silent" item in Needs you.
 */
export const STATE_RANK: Readonly<Record<AgentState, number>> = Object.freeze({
  waiting: 0,
  failed: 1,
  working: 2,
  stopped: 3,
  idle: 3,
  stale: 3,
  ended: 4,
});

/** True for the states that need a person. */
export function needsPerson(state: AgentState): boolean {
  return STATE_RANK[state] <= 1;
}

/**
 * Board order: by {@linkcode STATE_RANK}; waiting sessions the longest waiting first (the
 * most blocked), failed and working ones by when they entered the state, newest first (so a
 * busy session does not jump with every tool call), the rest by their last event, newest
 * first; then by id, so the order is total.
 */
export function compareSessions(a: BoardSession, b: BoardSession): number {
  const rank = STATE_RANK[a.state] - STATE_RANK[b.state];
  if (rank !== 0) return rank;
  let by: number;
  if (a.state === "waiting") by = a.state_at - b.state_at;
  else if (STATE_RANK[a.state] < 3) by = b.state_at - a.state_at;
  else by = b.last_event_at - a.last_event_at;
  return by !== 0 ? by : a.session_id < b.session_id ? -1 : 1;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

const line = (text: string | null | undefined) => oneLine(text ?? "", 160);

/**
 * What an event says its agent is doing; null for an event that says nothing of it (telemetry,
 * configuration and file notices, unknown types).
 */
export function doingOf(e: StreamEvent): Doing | null {
  const p = e.payload ?? {};
  // Every agent's fields under the common names (its adapter reads them).
  const f = commonFields(e);
  const tool = f.tool_name ?? "tool";
  const input = () => inputSummary(f.tool_input);
  const d = (what: string, text: string) => ({
    type: e.hook_event_type,
    what,
    text,
    at: e.timestamp,
  });
  switch (e.hook_event_type) {
    case "PreToolUse":
      return d(tool, input());
    case "PermissionRequest":
      return d(`asks to use ${tool}`, input());
    case "PostToolUse":
      return d(`ran ${tool}`, input());
    case "PostToolUseFailure":
      return d(`${tool} failed`, line(f.error) || input());
    case "PermissionDenied":
      return d(`${tool} denied`, input());
    case "UserPromptSubmit":
      return d("prompt", line(f.prompt));
    case "Stop":
      return d("finished", line(f.last_assistant_message));
    case "StopFailure":
      return d("failed", line(f.error ?? f.message));
    case "Notification":
      return d(
        f.notification_type === "idle_prompt" ? "idle" : "notification",
        line(f.message ?? f.title),
      );
    case "Elicitation":
      return d("asks", line(f.message ?? str(p.question)));
    case "SubagentStart":
      return d("started", line(str(p.agent_type)));
    case "SubagentStop":
      return d("done", line(f.last_assistant_message));
    case "SessionStart":
      return d("started", line(f.source));
    case "SessionEnd":
      return d("session ended", line(endReason(f.reason)));
    case "PreCompact":
      return d("compacting", line(str(p.trigger)));
    case "PostCompact":
      return d("compacted", "");
    default:
      return null;
  }
}

interface AgentRec {
  agent_id: string;
  agent_type: string | null;
  doing: StreamEvent | null;
  done: boolean;
  last_event_at: number;
}

interface SessionRec extends SessionStateRec {
  session_id: string;
  source_app: string | null;
  agent: string;
  last_event_at: number;
  /** The main agent's newest telling event. */
  doing: StreamEvent | null;
  agents: Map<string, AgentRec>;
  /** When the newest received event arrived, and how late it was. */
  received_at: number;
  behind_ms: number | null;
}

/** Options for {@linkcode SessionBoard}. */
export interface BoardOptions {
  /**
   * A session silent this long (no `SessionEnd`) is `stale`, as the server's sweep marks it
   * (`HOOKWATCH_STALE_AFTER`); never when absent.
   */
  staleAfterMs?: number;
}

/**
 * The sessions board's state. Events move a session's state with the server's state machine
 * and tell what it is doing; the server's session list (`seed`) says what the store knows,
 * which wins over what the board derived from older events.
 *
 * @example
 * ```ts
 * const board = new SessionBoard({ staleAfterMs: 600_000 });
 * board.seed(sessionsFromTheServer);
 * board.apply(streamEvent);
 * board.view(Date.now()).sessions[0]; // the session that needs a person most
 * ```
 */
export class SessionBoard {
  readonly #sessions = new Map<string, SessionRec>();
  readonly #staleAfter: number;
  readonly #doings = new WeakMap<StreamEvent, Doing | null>();
  /** Something changed since the last view. */
  #dirty = true;
  /** When the next session turns stale by the clock alone. */
  #staleDueAt = Infinity;

  constructor(options: BoardOptions = {}) {
    this.#staleAfter = options.staleAfterMs ?? Infinity;
  }

  /** True when the board changed since the last view, or a session turned stale since. */
  changed(now: number): boolean {
    return this.#dirty || now > this.#staleDueAt;
  }

  /** One hook event (any order; the newest by timestamp wins, as on the server). */
  apply(e: StreamEvent): void {
    const telemetry = isTelemetryType(e.hook_event_type);
    let s = this.#sessions.get(e.session_id);
    if (!s) {
      // Telemetry alone says nothing of a session's state.
      if (telemetry) return;
      s = {
        session_id: e.session_id,
        source_app: e.source_app,
        agent: e.agent ?? DEFAULT_AGENT,
        ...firstState(e.timestamp),
        last_event_at: e.timestamp,
        doing: null,
        agents: new Map(),
        received_at: 0,
        behind_ms: null,
      };
      this.#add(s);
    }
    this.#dirty = true;
    if (!telemetry && e.received_at >= s.received_at) {
      s.received_at = e.received_at;
      s.behind_ms = lateBy(e);
    }
    this.#settle(s, e.timestamp);
    if (!telemetry) {
      s.source_app = e.source_app;
      s.agent = e.agent ?? DEFAULT_AGENT;
    }
    s.last_event_at = Math.max(s.last_event_at, e.timestamp);
    moveState(s, e);
    if (telemetry || !this.#doing(e)) return;
    const agentId = e.agent_id ?? null;
    if (agentId === null) {
      if (!s.doing || s.doing.timestamp <= e.timestamp) s.doing = e;
      return;
    }
    let agent = s.agents.get(agentId);
    if (!agent) {
      agent = {
        agent_id: agentId,
        agent_type: null,
        doing: null,
        done: false,
        last_event_at: e.timestamp,
      };
      s.agents.set(agentId, agent);
      this.#trimAgents(s);
    }
    agent.agent_type = str(e.payload?.agent_type) ?? agent.agent_type;
    agent.last_event_at = Math.max(agent.last_event_at, e.timestamp);
    if (e.hook_event_type === "SubagentStop") agent.done = true;
    if (!agent.doing || agent.doing.timestamp <= e.timestamp) agent.doing = e;
  }

  /**
   * What the store knows of sessions (`GET /sessions`, `session` frames): it wins over the
   * board's own state unless the board holds an event newer than any the store had folded.
   */
  seed(list: readonly SessionSummary[]): void {
    for (const summary of list) {
      if (summary.state === null) continue;
      const folded = summary.last_event_at ?? summary.state_at ?? 0;
      const s = this.#sessions.get(summary.session_id);
      if (s && folded < s.state_event_at) {
        s.source_app ??= summary.source_app;
        continue;
      }
      const seeded = s ?? {
        session_id: summary.session_id,
        source_app: summary.source_app,
        agent: summary.agent ?? DEFAULT_AGENT,
        state: summary.state,
        state_at: 0,
        state_event_at: -1,
        last_event_at: folded,
        doing: null,
        agents: new Map(),
        received_at: 0,
        behind_ms: null,
      };
      seeded.state = summary.state;
      seeded.state_at = summary.state_at ?? folded;
      seeded.state_event_at = folded;
      seeded.last_event_at = Math.max(seeded.last_event_at, folded);
      seeded.source_app ??= summary.source_app;
      if (!s) this.#add(seeded);
      this.#dirty = true;
    }
  }

  /** The board at `now`, in board order. */
  view(now: number): BoardView {
    this.#dirty = false;
    this.#staleDueAt = Infinity;
    const live: BoardSession[] = [];
    const ended: BoardSession[] = [];
    for (const s of this.#sessions.values()) {
      const row = this.#row(s, now);
      (row.state === "ended" ? ended : live).push(row);
      if (row.state !== "ended" && row.state !== "stale") {
        this.#staleDueAt = Math.min(
          this.#staleDueAt,
          s.last_event_at + this.#staleAfter,
        );
      }
    }
    live.sort(compareSessions);
    ended.sort((a, b) => b.last_event_at - a.last_event_at);
    return {
      sessions: live.slice(0, BOARD_LIMITS.shown),
      more: Math.max(0, live.length - BOARD_LIMITS.shown),
      ended: ended.slice(0, BOARD_LIMITS.ended),
      endedCount: ended.length,
    };
  }

  #doing(e: StreamEvent): Doing | null {
    let d = this.#doings.get(e);
    if (d === undefined) this.#doings.set(e, d = doingOf(e));
    return d;
  }

  /** The sweep's rule: silent for `staleAfterMs` and not ended makes a session stale. */
  #staleAt(s: SessionRec, at: number): number | null {
    if (s.state === "ended" || s.state === "stale") return null;
    const due = s.last_event_at + this.#staleAfter;
    return s.last_event_at < at - this.#staleAfter ? due : null;
  }

  /** Marks a session stale as the sweep would have before an event arriving at `at`. */
  #settle(s: SessionRec, at: number): void {
    const due = this.#staleAt(s, at);
    if (due === null) return;
    s.state = "stale";
    s.state_at = due;
  }

  #row(s: SessionRec, now: number): BoardSession {
    const due = this.#staleAt(s, now);
    const agents = [...s.agents.values()].sort((a, b) =>
      Number(a.done) - Number(b.done) || b.last_event_at - a.last_event_at
    );
    return {
      session_id: s.session_id,
      source_app: s.source_app,
      agent: s.agent,
      state: due === null ? s.state : "stale",
      state_at: due ?? s.state_at,
      last_event_at: s.last_event_at,
      doing: s.doing ? this.#doing(s.doing) : null,
      agents: agents.slice(0, BOARD_LIMITS.agents).map((a) => ({
        agent_id: a.agent_id,
        agent_type: a.agent_type,
        doing: a.doing ? this.#doing(a.doing) : null,
        done: a.done,
        last_event_at: a.last_event_at,
      })),
      agentCount: s.agents.size,
      behind_ms: s.behind_ms,
    };
  }

  #add(s: SessionRec): void {
    this.#sessions.set(s.session_id, s);
    if (this.#sessions.size <= BOARD_LIMITS.kept) return;
    let oldest: SessionRec | null = null;
    for (const other of this.#sessions.values()) {
      if (!oldest || other.last_event_at < oldest.last_event_at) oldest = other;
    }
    this.#sessions.delete(oldest!.session_id);
  }

  #trimAgents(s: SessionRec): void {
    if (s.agents.size <= BOARD_LIMITS.agentsKept) return;
    let drop: AgentRec | null = null;
    for (const a of s.agents.values()) {
      if (
        !drop || Number(a.done) > Number(drop.done) ||
        (a.done === drop.done && a.last_event_at < drop.last_event_at)
      ) drop = a;
    }
    s.agents.delete(drop!.agent_id);
  }
}

/** The session that needs a person most: the board's first, else the latest ended; null when empty. */
export function urgentSession(view: BoardView): string | null {
  return view.sessions[0]?.session_id ?? view.ended[0]?.session_id ?? null;
}
