/**
 * Ingest throughput and latency over real HTTP: `wrk` (a separate process) POSTs realistic
 * single events at concurrency 1, 16 and 64, and batches of 100, to a real hookwatch process.
 * Also reads the server's group-commit batch sizes from `/metrics`.
 *
 * `deno run -A bench/ingest_bench.ts [--runs 5] [--seconds 3]`
 *
 * @module
 */
import {
  fmt,
  parseArgs,
  printTable,
  promValue,
  runWrk,
  sampleEvents,
  startHookwatch,
  summarize,
  type Summary,
  writeReportPart,
} from "./lib.ts";

/** One load shape. */
export interface IngestCase {
  name: string;
  path: "/events" | "/events/batch";
  connections: number;
  /** Events per request. */
  batch: number;
}

/** The shapes the issue asks for. */
export const INGEST_CASES: IngestCase[] = [
  { name: "single c=1", path: "/events", connections: 1, batch: 1 },
  { name: "single c=16", path: "/events", connections: 16, batch: 1 },
  { name: "single c=64", path: "/events", connections: 64, batch: 1 },
  { name: "batch100 c=4", path: "/events/batch", connections: 4, batch: 100 },
];

/** Figures of one case over all runs. */
export interface IngestFigures {
  events_per_sec: Summary;
  p50_ms: Summary;
  p99_ms: Summary;
  /** Mean events per group-commit transaction. */
  commit_batch_mean: Summary;
  errors: number;
}

/** Request bodies for a case: rotating through a realistic mix. */
export function bodiesFor(c: IngestCase): string[] {
  const events = sampleEvents(100 * c.batch);
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += c.batch) {
    bodies.push(
      JSON.stringify(c.batch === 1 ? events[i] : events.slice(i, i + c.batch)),
    );
  }
  return bodies;
}

async function scrapeBatches(url: string): Promise<[number, number]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [
    promValue(text, "database_insert_batch_size_sum"),
    promValue(text, "database_insert_batch_size_count"),
  ];
}

/** Runs every case `runs` times, each run against a fresh server. */
export async function measureIngest(
  cases: IngestCase[],
  runs: number,
  seconds: number,
  env: Record<string, string> = {},
  denoFlags: string[] = [],
): Promise<Record<string, IngestFigures>> {
  const raw = new Map<string, {
    eps: number[];
    p50: number[];
    p99: number[];
    batch: number[];
    errors: number;
  }>();
  const bodies = new Map(cases.map((c) => [c.name, bodiesFor(c)]));
  for (let run = 0; run < runs; run++) {
    const server = await startHookwatch({ env, denoFlags });
    try {
      // Warm the JIT and the database file.
      await runWrk({
        url: server.url,
        path: "/events",
        bodies: bodies.get(cases[0].name)!.slice(0, 10),
        connections: 4,
        seconds: 1,
      });
      for (const c of cases) {
        const [sum0, count0] = await scrapeBatches(server.url);
        const result = await runWrk({
          url: server.url + c.path,
          path: c.path,
          bodies: bodies.get(c.name)!,
          connections: c.connections,
          seconds,
        });
        const [sum1, count1] = await scrapeBatches(server.url);
        const r = raw.get(c.name) ??
          { eps: [], p50: [], p99: [], batch: [], errors: 0 };
        r.eps.push(result.requestsPerSec * c.batch);
        r.p50.push(result.p50Ms);
        r.p99.push(result.p99Ms);
        r.batch.push(count1 > count0 ? (sum1 - sum0) / (count1 - count0) : 0);
        r.errors += result.errors;
        raw.set(c.name, r);
      }
    } finally {
      await server.stop();
    }
  }
  const out: Record<string, IngestFigures> = {};
  for (const [name, r] of raw) {
    out[name] = {
      events_per_sec: summarize(r.eps),
      p50_ms: summarize(r.p50),
      p99_ms: summarize(r.p99),
      commit_batch_mean: summarize(r.batch),
      errors: r.errors,
    };
  }
  return out;
}

/** Prints the ingest table. */
export function printIngest(
  title: string,
  figures: Record<string, IngestFigures>,
): void {
  printTable(
    title,
    [
      "case",
      "events/s (median)",
      "min",
      "max",
      "p50 ms",
      "p99 ms",
      "events/commit",
      "errors",
    ],
    Object.entries(figures).map(([name, f]) => [
      name,
      fmt(f.events_per_sec.median),
      fmt(f.events_per_sec.min),
      fmt(f.events_per_sec.max),
      fmt(f.p50_ms.median, 2),
      fmt(f.p99_ms.median, 2),
      fmt(f.commit_batch_mean.median),
      f.errors,
    ]),
  );
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const runs = Number(args.get("runs") ?? 5);
  const seconds = Number(args.get("seconds") ?? 3);
  const figures = await measureIngest(INGEST_CASES, runs, seconds);
  printIngest(
    `ingest over HTTP (wrk, ${runs} runs × ${seconds} s per case, fresh server per run)`,
    figures,
  );
  await writeReportPart("ingest", {
    runs,
    seconds_per_case: seconds,
    tool: "wrk --latency, Lua script POSTing realistic hook events",
    cases: figures,
    guide_target_events_per_sec: 1000,
  });
}
