/**
 * The event row both SQL stores read back, and its mapping to {@linkcode StoredEvent}.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import type { RecentQuery } from "./store.ts";

/** An `events` row as the drivers return it (payload and chat as JSON text). */
export interface Row {
  id: number;
  source_app: string;
  session_id: string;
  hook_event_type: string;
  payload: string;
  chat?: string | null;
  summary: string | null;
  model_name: string | null;
  timestamp: number;
  received_at: number;
  priority: number;
  event_id: string | null;
  agent_id: string | null;
}

export function toEvent(row: Row): StoredEvent {
  const event: StoredEvent = {
    id: row.id,
    source_app: row.source_app,
    session_id: row.session_id,
    hook_event_type: row.hook_event_type,
    payload: JSON.parse(row.payload),
    timestamp: row.timestamp,
    received_at: row.received_at,
    priority: row.priority === 1 ? 1 : 0,
    model_name: row.model_name,
    summary: row.summary,
    event_id: row.event_id,
    agent_id: row.agent_id,
  };
  if (row.chat !== undefined) {
    event.chat = row.chat === null ? null : JSON.parse(row.chat);
  }
  return event;
}

/** Reads `agent_id` from a subagent's hook input, for per-agent lanes. */
export function agentIdOf(payload: Record<string, unknown>): string | null {
  const value = payload.agent_id;
  return typeof value === "string" && value.length > 0
    ? value.slice(0, 256)
    : null;
}

/** The equality filters of a {@linkcode RecentQuery} that are set, as column/value pairs. */
export function recentFilters(query: RecentQuery): [string, string | number][] {
  const filters: [string, string | number][] = [];
  for (
    const column of [
      "source_app",
      "session_id",
      "hook_event_type",
      "priority",
    ] as const
  ) {
    const value = query[column];
    if (value !== undefined) filters.push([column, value]);
  }
  return filters;
}
