/**
 * What the hot path records per commit: counters by bucket and by hook type, one call each.
 *
 * @module
 */
import { HOOK_TYPES } from "../../common/hook_types.ts";
import type { StoredEvent } from "../../common/events.ts";
import { instruments } from "../base/instruments.ts";

/** The `hook_event_type` label: known types by name, anything else as `other` (bounded). */
export function typeLabel(type: string): string {
  return Object.hasOwn(HOOK_TYPES, type) ? type : "other";
}

/** Counts newly committed events. */
export function recordCommitted(events: readonly StoredEvent[]): void {
  let priority = 0;
  const byType = new Map<string, number>();
  for (const event of events) {
    priority += event.priority;
    const label = typeLabel(event.hook_event_type);
    byType.set(label, (byType.get(label) ?? 0) + 1);
  }
  const regular = events.length - priority;
  if (priority) {
    instruments.eventsTotal.add(priority, { bucket: "priority" });
    instruments.priorityEventsTotal.add(priority);
  }
  if (regular) {
    instruments.eventsTotal.add(regular, { bucket: "regular" });
    instruments.regularEventsTotal.add(regular);
  }
  for (const [hook_event_type, n] of byType) {
    instruments.eventsProcessedTotal.add(n, { hook_event_type });
  }
}
