/**
 * Per-session cost and tokens in the browser: one shared signal, filled from `GET /sessions`
 * once and then kept live by the `session` stream frames the bucket worker forwards (in
 * `LiveUpdate.sessions`). The sessions table, the lane badges and the drawer's prompt cost all
 * read it.
 *
 * @module
 */
import { effect, signal } from "@preact/signals";
import type { SessionSummary } from "../common/sessions.ts";
import { live } from "./live.ts";

/** Sessions by id; empty on the server. */
export const sessionCosts = signal<Record<string, SessionSummary>>({});

/** Sessions kept in the browser; the least recently seen leave first. */
export const SESSIONS_KEPT = 2000;

/** Merges summaries in, keeping for each session the one seen last. */
export function applySessions(list: readonly SessionSummary[]): void {
  if (list.length === 0) return;
  let next = { ...sessionCosts.peek() };
  for (const s of list) next[s.session_id] = s;
  const all = Object.values(next);
  if (all.length > SESSIONS_KEPT) {
    all.sort((a, b) => b.last_seen - a.last_seen);
    next = Object.fromEntries(
      all.slice(0, SESSIONS_KEPT).map((s) => [s.session_id, s]),
    );
  }
  sessionCosts.value = next;
}

let started = false;

/** Loads sessions seen within `windowMs` and follows the stream's session frames (once per page). */
export function startSessionCosts(windowMs: number): void {
  if (started || typeof document === "undefined") return;
  started = true;
  effect(() => {
    const update = live.value;
    if (update?.sessions) applySessions(update.sessions);
  });
  const since = Date.now() - windowMs;
  fetch(`/sessions?limit=1000&since=${since}`)
    .then((res) => res.ok ? res.json() : null)
    .then((body) => {
      // Frames that arrived meanwhile are newer than this answer.
      const known = sessionCosts.peek();
      applySessions(
        (body?.sessions ?? []).filter((s: SessionSummary) =>
          !(s.session_id in known)
        ),
      );
    })
    .catch(() => {});
}

/**
 * Whether the session's telemetry told what it cost. Codex, Gemini CLI and Copilot CLI report
 * tokens and no cost: their sessions say nothing of dollars rather than "$0.0000".
 */
export function costReported(s: { cost_usd: number }): boolean {
  return s.cost_usd > 0;
}

/** Dollars: cents above a dollar, four decimals below. */
export function usd(value: number): string {
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}

/** A token count, compact (`12.3k`, `4.5M`). */
export function tokenCount(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

/** All tokens of a session. */
export function totalTokens(s: SessionSummary): number {
  return s.tokens.input + s.tokens.output + s.tokens.cache_read +
    s.tokens.cache_creation;
}
