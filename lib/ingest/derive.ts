/**
 * The fields the server derives for an event, once, at ingest: its class, its arrival time, the
 * subagent it came from, and its session's model when the event names none. Stores write what
 * they are given.
 *
 * @module
 */
import type { Classifier } from "../../common/classify.ts";
import type { ClassifiedEvent, NewEvent } from "../../common/events.ts";
import type { SessionModels } from "./session_models.ts";

/** Reads `agent_id` from a subagent's hook input, for per-agent lanes. */
export function agentIdOf(payload: Record<string, unknown>): string | null {
  const value = payload.agent_id;
  return typeof value === "string" && value.length > 0
    ? value.slice(0, 256)
    : null;
}

/**
 * Classifies events and sets their derived fields; `receivedAt` is the server's clock, `models`
 * the sessions' last known models (a native `http` hook names none).
 */
export function deriveFields(
  events: readonly NewEvent[],
  classify: Classifier,
  receivedAt: number,
  models?: SessionModels,
): ClassifiedEvent[] {
  return events.map((e) => ({
    ...e,
    model_name: e.model_name ?? models?.get(e.session_id) ?? null,
    priority: classify(e.hook_event_type) ? 1 : 0,
    received_at: receivedAt,
    agent_id: agentIdOf(e.payload),
  }));
}
