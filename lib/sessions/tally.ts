/**
 * Folding committed hook events into per-session and per-prompt changes, before any of them
 * touches the database: a batch costs a few statements per session rather than per event.
 * Pure. Session state is not kept here: the agent sessions own it (`agent_fold.ts`).
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";

/** Hook events forwarded from Claude Code telemetry carry this type prefix. */
export const OTEL_TYPE_PREFIX = "claude_code.";

/** One session's share of a batch. */
export interface SessionFold {
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
export interface PromptFold {
  sessionId: string;
  promptId: string;
  first: number;
  last: number;
  hookEvents: number;
}

/** A batch of committed hook events, folded per session and per prompt. */
export function foldHookEvents(events: readonly StoredEvent[]): {
  sessions: Map<string, SessionFold>;
  prompts: PromptFold[];
} {
  const sessions = new Map<string, SessionFold>();
  const prompts = new Map<string, PromptFold>();
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
    if (e.hook_event_type.startsWith(OTEL_TYPE_PREFIX)) {
      f.otelApp ??= e.source_app;
      continue;
    }
    f.app = e.source_app;
    const promptId = e.payload.prompt_id;
    if (typeof promptId === "string" && promptId.length > 0) {
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
