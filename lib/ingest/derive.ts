/**
 * The fields the server derives for an event, once, at ingest: its class, its arrival time and
 * the subagent it came from. Stores write what they are given.
 *
 * @module
 */
import type { Classifier } from "../../common/classify.ts";
import type { NewEvent } from "../../common/events.ts";
import type { ClassifiedEvent } from "../store/store.ts";

/** Reads `agent_id` from a subagent's hook input, for per-agent lanes. */
export function agentIdOf(payload: Record<string, unknown>): string | null {
  const value = payload.agent_id;
  return typeof value === "string" && value.length > 0
    ? value.slice(0, 256)
    : null;
}

/** Classifies events and sets their derived fields; `receivedAt` is the server's clock. */
export function deriveFields(
  events: readonly NewEvent[],
  classify: Classifier,
  receivedAt: number,
): ClassifiedEvent[] {
  return events.map((e) => ({
    ...e,
    priority: classify(e.hook_event_type) ? 1 : 0,
    received_at: receivedAt,
    agent_id: agentIdOf(e.payload),
  }));
}
