/**
 * Where one event's time goes on its way from the request to the stream: each stage marks the
 * time an event reached it, keyed by its `event_id`, when a bench turns tracing on
 * (`bench/stages_bench.ts`). Off, each mark is one property check.
 *
 * @module
 */

/** The stages, in the order an event passes them. */
export const STAGES = [
  "received",
  "parsed",
  "validated",
  "redacted",
  "committed",
  "fed",
  "encoded",
  "written",
  "answered",
] as const;

/** One of {@linkcode STAGES}. */
export type Stage = (typeof STAGES)[number];

/** Epoch milliseconds with the monotonic clock's resolution (comparable across processes). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The tracer: `on` false in the server; a bench sets it and reads `marks`. */
export const stages = {
  on: false,
  /** Per traced event id, the time it reached each stage. */
  marks: new Map<string, Partial<Record<Stage, number>>>(),
  /** Marks `stage` for the event `id` (its first time only). */
  mark(id: string | null | undefined, stage: Stage, at = epochNow()): void {
    if (!id) return;
    let times = this.marks.get(id);
    if (!times) this.marks.set(id, times = {});
    times[stage] ??= at;
  },
};
