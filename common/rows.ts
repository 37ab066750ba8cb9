/**
 * The dashboard's compact view of an event: one feed row, its one-line description and the
 * filters. Shared by the server's first paint and the browser worker so both show the same
 * thing.
 *
 * @module
 */
import type { StreamEvent } from "./events.ts";
import { inputSummary } from "./text.ts";
import { commonFields, DEFAULT_AGENT, isAgentName } from "./adapters/mod.ts";

/** One feed row: what the main thread needs to draw an event, under the event's own names. */
export type FeedRow =
  & Pick<
    StreamEvent,
    | "id"
    | "source_app"
    | "session_id"
    | "hook_event_type"
    | "priority"
    | "timestamp"
    | "received_at"
  >
  & {
    /** The coding agent that sent it (`claude-code` when it names none). */
    agent: string;
    /** Set inside subagents. */
    agent_id: string | null;
    model_name: string | null;
    /** One line: the summary or the most telling payload field. */
    text: string;
    /** How late it arrived (ms), see {@linkcode lateBy}; null when in time. */
    late_ms: number | null;
  };

/** The dashboard's filters; empty strings match everything. */
export interface Filters {
  app: string;
  session: string;
  type: string;
  /** Free text, matched case-insensitively. */
  q: string;
  /** The coding agent (`codex` …); absent or empty matches every agent. */
  agent?: string;
}

/** No filter. */
export const NO_FILTERS: Readonly<Filters> = Object.freeze({
  app: "",
  session: "",
  type: "",
  q: "",
});

/**
 * An event that reached hookwatch this long after it happened arrived late: replayed from a
 * hook's spool after hookwatch or the network was down, or held up by a slow sender. A live
 * hook's event arrives within milliseconds.
 */
export const LATE_AFTER_MS = 30_000;

/**
 * How late `event` arrived (ms), or null when it arrived in time (see {@linkcode LATE_AFTER_MS}).
 * Only events with a client `event_id` (what hookwatch's hook sender posts, stamped with the
 * hook's own time) can be known to be late: an event posted without one (curl, a native `http`
 * hook, an import of past events) carries whatever time its poster chose.
 */
export function lateBy(
  event: { timestamp: number; received_at: number; event_id?: string | null },
): number | null {
  if (!event.event_id) return null;
  const lag = event.received_at - event.timestamp;
  return lag >= LATE_AFTER_MS ? lag : null;
}

/** Which bucket a view shows. */
export type View = "all" | "priority" | "regular";

/** Longest row text kept. */
export const TEXT_LIMIT = 160;

function str(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > TEXT_LIMIT ? `${flat.slice(0, TEXT_LIMIT - 1)}…` : flat;
}

/**
 * An agent's code for why a session ended, in words; null for one that says nothing (Claude
 * Code's and Codex's `other`). Codes hookwatch does not know read as they are.
 */
export function endReason(reason: string | null): string | null {
  if (reason === null) return null;
  return Object.hasOwn(END_REASONS, reason) ? END_REASONS[reason] : reason;
}

const END_REASONS: Record<string, string | null> = {
  other: null,
  prompt_input_exit: "exited",
  exit: "exited",
  user_exit: "exited",
  clear: "cleared",
  logout: "logged out",
  complete: "complete",
  abort: "aborted",
  error: "error",
  timeout: "timed out",
};

function withReason(what: string, reason: string | null): string {
  return reason ? `${what} (${reason})` : what;
}

/** The most telling field of a hook payload, as one line of plain text. */
export function describeEvent(event: StreamEvent): string {
  if (event.summary) return oneLine(event.summary);
  if (event.hook_event_type === "MessageDisplay") {
    return oneLine(foldedText(event));
  }
  const p = event.payload ?? {};
  if (Array.isArray(p.tool_calls)) {
    const names = p.tool_calls.map((c) =>
      str((c as Record<string, unknown> | null)?.tool_name) ?? "?"
    );
    return oneLine(
      `${names.length} tool call${names.length === 1 ? "" : "s"}: ${
        names.join(", ")
      }`,
    );
  }
  // Every agent's fields under the common names (its adapter reads them).
  const f = commonFields(event);
  if (f.message) return oneLine(f.message);
  const tool = f.tool_name;
  if (tool) {
    const error = f.error;
    return oneLine(
      [tool, inputSummary(f.tool_input), error ? `— ${error}` : null].filter(
        Boolean,
      ).join(" "),
    );
  }
  // What happened, not a bare field value ("other" said nothing).
  if (event.hook_event_type === "SessionEnd") {
    return oneLine(withReason("session ended", endReason(f.reason)));
  }
  if (event.hook_event_type === "SessionStart") {
    return oneLine(withReason("session started", f.source));
  }
  const text = f.prompt ?? f.last_assistant_message ?? f.error ?? f.reason ??
    f.source ?? f.title ?? "";
  return oneLine(text);
}

/**
 * The key under which the feed folds an event into one row with others: `MessageDisplay` events
 * (Claude Code's text as it is shown, several per message) fold by message. Null otherwise.
 */
export function foldKey(e: StreamEvent): string | null {
  if (e.hook_event_type !== "MessageDisplay") return null;
  const message = str(e.payload?.message_id);
  return message ? `${e.session_id}\n${e.agent_id ?? ""}\n${message}` : null;
}

/** The raw text one part of a folded message adds. */
export function foldedText(e: StreamEvent): string {
  const p = e.payload ?? {};
  return str(p.delta) ?? str(p.text) ?? str(p.message) ?? "";
}

/** The row of a folded message: the newer part's row with the text of every part so far. */
export function foldRow(row: FeedRow, text: string): FeedRow {
  return { ...row, text: oneLine(text.slice(-TEXT_LIMIT * 4)) };
}

/** The feed row of an event. */
export function toRow(event: StreamEvent): FeedRow {
  return {
    id: event.id,
    source_app: event.source_app,
    session_id: event.session_id,
    agent: event.agent ?? DEFAULT_AGENT,
    agent_id: event.agent_id ?? null,
    hook_event_type: event.hook_event_type,
    priority: event.priority,
    timestamp: event.timestamp,
    received_at: event.received_at,
    model_name: event.model_name ?? null,
    text: describeEvent(event),
    late_ms: lateBy(event),
  };
}

/** Reads filters from URL search parameters (`app`, `session`, `type`, `q`, `agent`). */
export function filtersFromParams(params: URLSearchParams): Filters {
  const get = (key: string) => (params.get(key) ?? "").slice(0, 256);
  const filters: Filters = {
    app: get("app"),
    session: get("session"),
    type: get("type"),
    q: get("q").trim(),
  };
  if (isAgentName(get("agent"))) filters.agent = get("agent");
  return filters;
}

/**
 * Builds a predicate for the filters. Free text matches the app, session, type, summary, model
 * and the payload's JSON; `haystack` lets a caller cache that lowercased text per event.
 */
export function eventFilter(
  filters: Filters,
  haystack: (event: StreamEvent) => string = searchText,
): (event: StreamEvent) => boolean {
  const q = filters.q.toLowerCase();
  return (e) =>
    (!filters.app || e.source_app === filters.app) &&
    (!filters.session || e.session_id === filters.session) &&
    (!filters.type || e.hook_event_type === filters.type) &&
    (!filters.agent || (e.agent ?? DEFAULT_AGENT) === filters.agent) &&
    (!q || haystack(e).includes(q));
}

/** Lowercased text that free-text search looks in (payload JSON capped at 8 kB). */
export function searchText(e: StreamEvent): string {
  let payload = "";
  try {
    payload = JSON.stringify(e.payload ?? {}).slice(0, 8192);
  } catch { /* cyclic values cannot arrive over JSON */ }
  return [
    e.source_app,
    e.session_id,
    e.agent_id ?? "",
    e.hook_event_type,
    e.summary ?? "",
    e.model_name ?? "",
    payload,
  ].join("\n").toLowerCase();
}
