/**
 * A paced load generator (its own process): POSTs single realistic events to `/events` at a
 * fixed rate over a few connections, each stamped with its send time in `timestamp`, for a
 * fixed time. Prints one JSON line: sent, ok, failed, achieved rate.
 *
 * `deno run -A bench/load_gen.ts --url http://127.0.0.1:4000 --rate 1000 --seconds 5
 *   [--connections 8] [--trace 1]` (`--trace`: each event gets `event_id` `trace-<n>` and its
 * send time, epoch ms with sub-millisecond resolution, in `payload.sent_at`)
 *
 * With `--batch N --total M [--rate R]`, it POSTs `/events/batch` bodies of N events (at most
 * R events/s; as fast as the server takes them without `--rate`) until M events are sent.
 *
 * @module
 */
import { parseArgs, sampleEvents } from "./lib.ts";

/** What one load run did. */
export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  seconds: number;
  rate: number;
  /** Most a worker ran behind its schedule, ms. */
  max_lag_ms: number;
}

/** Sends `rate` events/s for `seconds` over `connections` concurrent request loops. */
export async function generate(
  url: string,
  rate: number,
  seconds: number,
  connections: number,
  trace = false,
): Promise<LoadResult> {
  const events = sampleEvents(256);
  const total = Math.round(rate * seconds);
  const result: LoadResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    seconds: 0,
    rate: 0,
    max_lag_ms: 0,
  };
  const start = performance.now() + 50;
  let next = 0;
  const worker = async () => {
    while (true) {
      const k = next++;
      if (k >= total) return;
      const due = start + (k * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      else result.max_lag_ms = Math.max(result.max_lag_ms, -wait);
      const event = events[k & 255];
      const body = JSON.stringify(
        trace
          ? {
            ...event,
            timestamp: Date.now(),
            event_id: `trace-${k}`,
            payload: {
              ...(event.payload as Record<string, unknown>),
              sent_at: performance.timeOrigin + performance.now(),
            },
          }
          : { ...event, timestamp: Date.now() },
      );
      result.sent++;
      try {
        const res = await fetch(`${url}/events`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await res.body?.cancel();
        if (res.ok) result.ok++;
        else result.failed++;
      } catch {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  result.seconds = (performance.now() - start) / 1000;
  result.rate = result.ok / result.seconds;
  result.max_lag_ms = Math.round(result.max_lag_ms);
  return result;
}

/** POSTs `total` events in batches of `batch` over `connections` loops, at most `rate`/s (0: unpaced). */
export async function generateBatches(
  url: string,
  total: number,
  batch: number,
  connections: number,
  rate = 0,
): Promise<LoadResult> {
  const events = sampleEvents(1024);
  const result: LoadResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    seconds: 0,
    rate: 0,
    max_lag_ms: 0,
  };
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const n = Math.min(batch, total - next);
      const first = next;
      next += n;
      if (rate > 0) {
        const wait = start + (first * 1000) / rate - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      const timestamp = Date.now();
      const body = Array.from(
        { length: n },
        (_, i) => JSON.stringify({ ...events[(first + i) & 1023], timestamp }),
      ).join("\n");
      result.sent += n;
      try {
        const res = await fetch(`${url}/events/batch`, {
          method: "POST",
          headers: { "content-type": "application/x-ndjson" },
          body,
        });
        await res.body?.cancel();
        if (res.ok) result.ok += n;
        else result.failed += n;
      } catch {
        result.failed += n;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  result.seconds = (performance.now() - start) / 1000;
  result.rate = result.ok / result.seconds;
  return result;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  if (args.has("batch")) {
    const result = await generateBatches(
      args.get("url")!,
      Number(args.get("total") ?? 100_000),
      Number(args.get("batch")),
      Number(args.get("connections") ?? 4),
      Number(args.get("rate") ?? 0),
    );
    console.log(JSON.stringify(result));
    Deno.exit(0);
  }
  const result = await generate(
    args.get("url")!,
    Number(args.get("rate") ?? 1000),
    Number(args.get("seconds") ?? 5),
    Number(args.get("connections") ?? 8),
    args.has("trace"),
  );
  console.log(JSON.stringify(result));
}
