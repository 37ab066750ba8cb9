/**
 * Telemetry de-duplication: an OTLP exporter retries, and cumulative metric series repeat
 * their running total, so nothing may count twice. Log records and delta points are keyed
 * (`otel_seen`); a cumulative series contributes its growth since its last point
 * (`otel_series`). The tables are shared by every replica, so an export retried to another
 * replica does not count twice either.
 *
 * @module
 */
import { q, type Tx } from "../store/db.ts";
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

/** True the first time `key` is offered (then remembered for a day). */
export function* firstSeenTx(key: string, now: number): Tx<boolean> {
  return (yield q(
    `INSERT INTO otel_seen (key, seen_at) VALUES (?, ?)
     ON CONFLICT (key) DO NOTHING RETURNING key`,
    key,
    now,
  )).length > 0;
}

/** How much a metric point adds: null when it was seen already or is older than what was. */
export function* growthTx(p: UsagePoint, now: number): Tx<number | null> {
  if (p.temporality === "delta") {
    const key = `${p.series}:${p.startTimeUnixNano}:${p.timeUnixNano}`;
    return (yield* firstSeenTx(key, now)) ? p.value : null;
  }
  const [row] = yield q(
    "SELECT start_nano, time_nano, value FROM otel_series WHERE series = ?",
    p.series,
  );
  const last: SeriesPoint | undefined = row && {
    start_nano: String(row.start_nano),
    time_nano: String(row.time_nano),
    value: Number(row.value),
  };
  const amount = cumulativeGrowth(last, p);
  if (amount === null) return null;
  yield q(
    `INSERT INTO otel_series (series, start_nano, time_nano, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (series) DO UPDATE SET start_nano = excluded.start_nano,
       time_nano = excluded.time_nano, value = excluded.value`,
    p.series,
    p.startTimeUnixNano,
    p.timeUnixNano,
    p.value,
  );
  return amount;
}
