/**
 * Telemetry de-duplication: an OTLP exporter retries, and cumulative metric series repeat
 * their running total, so nothing may count twice. Log records and delta points are keyed
 * (`otel_seen`); a cumulative series contributes its growth since its last point
 * (`otel_series`).
 *
 * @module
 */
import type { SessionTables } from "./schema.ts";
import type { UsagePoint } from "./usage.ts";

/** A cumulative series' last point as stored. */
export interface SeriesPoint {
  start_nano: string;
  time_nano: string;
  value: number;
}

/**
 * How much a cumulative point adds after `last` (the series' previous point, if any): null
 * when it is not newer. A series that went down without a new start time was restarted.
 */
export function cumulativeGrowth(
  last: SeriesPoint | undefined,
  p: Pick<UsagePoint, "startTimeUnixNano" | "timeUnixNano" | "value">,
): number | null {
  if (!last) return p.value;
  if (last.start_nano === p.startTimeUnixNano) {
    if (BigInt(p.timeUnixNano) <= BigInt(last.time_nano)) return null;
    return p.value >= last.value ? p.value - last.value : p.value;
  }
  if (BigInt(p.startTimeUnixNano) > BigInt(last.start_nano)) return p.value;
  return null;
}

/** The seen-keys and series tables, inside the caller's transaction. */
export class TelemetryDedupe {
  readonly #tables: SessionTables;

  constructor(tables: SessionTables) {
    this.#tables = tables;
  }

  /** True the first time `key` is offered (then remembered for a day). */
  firstSeen(key: string, now: number): boolean {
    return this.#tables.s.seen.get(key, now) !== undefined;
  }

  /** How much a metric point adds: null when it was seen already or is older than what was. */
  growth(p: UsagePoint, now: number): number | null {
    if (p.temporality === "delta") {
      const key = `${p.series}:${p.startTimeUnixNano}:${p.timeUnixNano}`;
      return this.firstSeen(key, now) ? p.value : null;
    }
    const s = this.#tables.s;
    const last = s.seriesGet.get(p.series) as SeriesPoint | undefined;
    const amount = cumulativeGrowth(last, p);
    if (amount === null) return null;
    s.seriesPut.run(p.series, p.startTimeUnixNano, p.timeUnixNano, p.value);
    return amount;
  }
}
