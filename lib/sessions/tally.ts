/**
 * Tallying committed hook events: counted per session and per prompt first (pure), then
 * written in a few statements per session rather than per event ({@linkcode tallyTx}, run in
 * the agent sessions' fold transaction so that every event counts once across replicas).
 * Session state is not kept here: the agent sessions own it (`lib/agents/`).
 *
 * @module
 */
import { commonFields } from "../../common/adapters/mod.ts";
import type { StoredEvent } from "../../common/events.ts";
import { isTelemetryType } from "../../common/hook_types.ts";
import { insertRows, q, type Tx } from "../store/db.ts";
import {
  ADD_TO_PROMPT,
  INSERT_PROMPT,
  INSERT_SESSION,
  WIDEN_SESSION,
} from "./tables.ts";

/** One session's share of a batch. */
export interface SessionTally {
  first: number;
  last: number;
  /** The latest `source_app` of a real hook event (telemetry events don't say). */
  app: string | null;
  /** The app of the telemetry events, for a session that no hook event has named yet. */
  otelApp: string | null;
  priority: number;
  regular: number;
}

/** One prompt's share of a batch (by `payload.prompt_id`). */
export interface PromptTally {
  sessionId: string;
  promptId: string;
  first: number;
  last: number;
  hookEvents: number;
}

/** A batch of committed hook events, counted per session and per prompt. */
export function tallyHookEvents(events: readonly StoredEvent[]): {
  sessions: Map<string, SessionTally>;
  prompts: PromptTally[];
} {
  const sessions = new Map<string, SessionTally>();
  const prompts = new Map<string, PromptTally>();
  for (const e of events) {
    let f = sessions.get(e.session_id);
    if (!f) {
      f = {
        first: e.timestamp,
        last: e.timestamp,
        app: null,
        otelApp: null,
        priority: 0,
        regular: 0,
      };
      sessions.set(e.session_id, f);
    }
    f.first = Math.min(f.first, e.timestamp);
    f.last = Math.max(f.last, e.timestamp);
    if (e.priority === 1) f.priority++;
    else f.regular++;
    if (isTelemetryType(e.hook_event_type)) {
      f.otelApp ??= e.source_app;
      continue;
    }
    f.app = e.source_app;
    const promptId = commonFields(e).prompt_id;
    if (promptId !== null) {
      const key = `${e.session_id}\n${promptId}`;
      const p = prompts.get(key);
      if (p) {
        p.first = Math.min(p.first, e.timestamp);
        p.last = Math.max(p.last, e.timestamp);
        p.hookEvents++;
      } else {
        prompts.set(key, {
          sessionId: e.session_id,
          promptId: promptId.slice(0, 256),
          first: e.timestamp,
          last: e.timestamp,
          hookEvents: 1,
        });
      }
    }
  }
  return { sessions, prompts: [...prompts.values()] };
}

/** Adds a batch of committed hook events to their sessions' and prompts' counts. */
export function* tallyTx(events: readonly StoredEvent[]): Tx<void> {
  if (events.length === 0) return;
  const { sessions, prompts } = tallyHookEvents(events);
  yield* insertRows(
    INSERT_SESSION,
    WIDEN_SESSION,
    [...sessions].map(([id, f]) => [id, f.first, f.last]),
  );
  for (const [id, f] of sessions) {
    yield q(
      `UPDATE sessions SET source_app = COALESCE(?, source_app, ?),
         priority_events = priority_events + ?, regular_events = regular_events + ?
       WHERE session_id = ?`,
      f.app,
      f.otelApp,
      f.priority,
      f.regular,
      id,
    );
  }
  if (prompts.length === 0) return;
  yield* insertRows(
    INSERT_PROMPT,
    ADD_TO_PROMPT,
    prompts.map((p) => [
      p.sessionId,
      p.promptId,
      p.first,
      p.last,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      p.hookEvents,
      null,
    ]),
  );
}
