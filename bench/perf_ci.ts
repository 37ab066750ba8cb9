/**
 * The performance-regression check (the guide's `performance-regression-testing` script):
 *
 * - `deno task perf:ci` (mode `ci`) reruns a short subset, compares it with
 *   `bench/baseline.json`, prints a table, writes its part of `performance-report.json`, and
 *   exits 1 when a figure regressed beyond its tolerance;
 * - `deno task perf:baseline` (mode `baseline`) measures the same subset and writes the baseline.
 *
 * Figures are ratios to references measured in the same run where one exists (a bare
 * `Deno.serve` JSON echo for HTTP ingest, a raw SQLite query for the snapshot, an object copy
 * for classification), runs interleaved, medians of 5. Tolerances are wide (see
 * {@linkcode TOLERANCES}): a shared 2-core machine moves single figures by tens of percent, a
 * real regression (e.g. a sleep per insert: `HOOKWATCH_SLOW_INSERT_MS=1 deno task perf:ci`) by
 * several times.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { createClassifier } from "../common/classify.ts";
import { bodiesFor, INGEST_CASES } from "./ingest_bench.ts";
import { populate, snapshotQuery } from "./query_bench.ts";
import { fanoutRun } from "./fanout_bench.ts";
import {
  cpuSeconds,
  fmt,
  machineInfo,
  parseArgs,
  percentile,
  printTable,
  ROOT,
  runWrk,
  sampleEvents,
  startHookwatch,
  startReference,
  summarize,
  writeReportPart,
} from "./lib.ts";

/** Where the committed baseline lives. */
export const BASELINE_PATH = `${ROOT}bench/baseline.json`;

/** One figure of the check. */
export interface Figure {
  value: number;
  unit: string;
  /** Which way is better. */
  better: "higher" | "lower";
  /** Spread of the runs behind it, for the table. */
  spread?: number;
}

/** How far a figure may move from its baseline before it counts as a regression. */
export interface Tolerance {
  /** Allowed factor: higher-better must stay ≥ baseline ÷ factor, lower-better ≤ baseline × factor. */
  factor: number;
  /** Lower-better only: never a regression below this absolute value. */
  floor?: number;
  /** Shown, never failed: too noisy on a shared machine to gate on. */
  advisory?: boolean;
}

/**
 * Tolerances per figure, set from repeated runs on a shared, busy 2-core machine: there the
 * throughput ratios moved by up to a third between runs of the same code and broadcast p99 by
 * 10× (10 ms to 500 ms), while a sleep of 1 ms per insert cuts ingest ratios 3–13×. So
 * throughput ratios may halve (batches: lose 60 %), latency ratios may grow 2.5×, and broadcast
 * p99 (no same-run reference; it moved from 8 ms to 2.8 s between runs of the same code while
 * other test suites ran) is shown but not gated. Lost events must stay 0. Single events at concurrency 1 are left out: that ratio is bound by
 * wake-up latency and moved 4× between runs of the same code (`deno task bench` reports it).
 */
export const TOLERANCES: Record<string, Tolerance> = {
  ingest_c16_vs_reference: { factor: 2 },
  batch_ingest_vs_reference: { factor: 2.5 },
  ingest_cpu_us_per_event_vs_reference: { factor: 2 },
  snapshot_p95_vs_raw_query: { factor: 2.5 },
  classify_vs_object_copy: { factor: 3 },
  broadcast_p99_ms_100_clients: { factor: 8, floor: 1000, advisory: true },
  broadcast_lost_events: { factor: 1, floor: 0 },
};

/** One compared row. */
export interface Comparison {
  name: string;
  baseline: number;
  current: number;
  unit: string;
  /** current ÷ baseline. */
  change: number;
  /** The worst value still accepted. */
  limit: number;
  regressed: boolean;
  /** Shown only; never fails the check. */
  advisory: boolean;
}

/** Compares current figures with the baseline; a figure missing on either side is skipped. */
export function compare(
  baseline: Record<string, Figure>,
  current: Record<string, Figure>,
  tolerances: Record<string, Tolerance> = TOLERANCES,
): Comparison[] {
  const rows: Comparison[] = [];
  for (const [name, now] of Object.entries(current)) {
    const base = baseline[name];
    if (!base) continue;
    const tol = tolerances[name] ?? { factor: 2 };
    const limit = now.better === "higher"
      ? base.value / tol.factor
      : Math.max(base.value * tol.factor, tol.floor ?? 0);
    const beyond = now.better === "higher"
      ? now.value < limit
      : now.value > limit;
    const advisory = tol.advisory === true;
    const regressed = beyond && !advisory;
    rows.push({
      name,
      baseline: base.value,
      current: now.value,
      unit: now.unit,
      change: base.value === 0
        ? (now.value === 0 ? 1 : Infinity)
        : now.value / base.value,
      limit,
      regressed,
      advisory,
    });
  }
  return rows;
}

/** Prints the comparison. */
export function printComparison(rows: Comparison[]): void {
  printTable(
    "perf:ci — current against bench/baseline.json",
    ["figure", "baseline", "current", "change", "limit", "verdict"],
    rows.map((r) => [
      r.name,
      `${fmt(r.baseline, 3)} ${r.unit}`,
      `${fmt(r.current, 3)} ${r.unit}`,
      Number.isFinite(r.change) ? `${(r.change * 100).toFixed(0)} %` : "—",
      fmt(r.limit, 3),
      r.regressed ? "REGRESSED" : r.advisory ? "shown only" : "ok",
    ]),
  );
}

/** Options for {@linkcode measureIngestRatios}. */
export interface RatioOptions {
  rounds: number;
  seconds: number;
  /** Slow the hookwatch build down (ms per inserted event), to show a regression. */
  slowInsertMs?: number;
  /** Which figures: all, or only the c=16 single-event one. */
  only16?: boolean;
}

/** Ingest figures as ratios to the reference server, interleaved rounds, medians. */
export async function measureIngestRatios(
  options: RatioOptions,
): Promise<Record<string, Figure>> {
  const slow = options.slowInsertMs ??
    Number(Deno.env.get("HOOKWATCH_SLOW_INSERT_MS") ?? 0);
  const hw = await startHookwatch(
    slow > 0
      ? {
        env: { HOOKWATCH_SLOW_INSERT_MS: String(slow) },
        denoFlags: ["--preload", `${ROOT}bench/slow_insert.ts`],
      }
      : {},
  );
  const ref = await startReference();
  const cases = INGEST_CASES.filter((c) =>
    options.only16
      ? c.name === "single c=16"
      : ["single c=16", "batch100 c=4"].includes(c.name)
  );
  const ratios = new Map<string, number[]>();
  const cpu: number[] = [];
  try {
    for (const server of [ref, hw]) {
      await runWrk({
        url: `${server.url}/events`,
        path: "/events",
        bodies: bodiesFor(cases[0]).slice(0, 10),
        connections: 4,
        seconds: 1,
      });
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const c of cases) {
        const eps: number[] = [];
        const cpuPer: number[] = [];
        for (const server of [ref, hw]) {
          const before = cpuSeconds(server.pid);
          const r = await runWrk({
            url: server.url + c.path,
            path: c.path,
            bodies: bodiesFor(c),
            connections: c.connections,
            seconds: options.seconds,
          });
          if (r.errors > 0 && server === hw) {
            throw new Error(`${c.name}: ${r.errors} failed requests`);
          }
          const events = r.requests * c.batch;
          eps.push(r.requestsPerSec * c.batch);
          cpuPer.push((cpuSeconds(server.pid) - before) * 1e6 / events);
        }
        const key = c.name === "single c=16"
          ? "ingest_c16_vs_reference"
          : "batch_ingest_vs_reference";
        ratios.set(key, [...(ratios.get(key) ?? []), eps[1] / eps[0]]);
        if (c.name === "single c=16") cpu.push(cpuPer[1] / cpuPer[0]);
      }
    }
  } finally {
    await hw.stop();
    await ref.stop();
  }
  const out: Record<string, Figure> = {};
  for (const [key, values] of ratios) {
    const s = summarize(values);
    out[key] = {
      value: s.median,
      unit: "×",
      better: "higher",
      spread: s.spread,
    };
  }
  if (cpu.length > 0) {
    const s = summarize(cpu);
    out.ingest_cpu_us_per_event_vs_reference = {
      value: s.median,
      unit: "×",
      better: "lower",
      spread: s.spread,
    };
  }
  return out;
}

/** Snapshot p95 at 100 k rows ÷ p95 of a raw SQLite read of as many rows. */
export async function measureSnapshotRatio(rounds: number): Promise<Figure> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-perfci-" });
  try {
    const path = `${dir}/events.db`;
    const store = SqliteStore.open(path);
    const now = Date.now();
    populate(store, 100_000, now);
    store.connection.exec("ANALYZE");
    const raw = new DatabaseSync(path);
    const rawQuery = raw.prepare(
      "SELECT * FROM events ORDER BY id DESC LIMIT 300",
    );
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const a: number[] = [], b: number[] = [];
      for (let i = 0; i < 100; i++) {
        let t = performance.now();
        await store.snapshot(snapshotQuery(now));
        a.push(performance.now() - t);
        t = performance.now();
        for (const row of rawQuery.all()) JSON.parse(row.payload as string);
        b.push(performance.now() - t);
      }
      a.sort((x, y) => x - y);
      b.sort((x, y) => x - y);
      ratios.push(percentile(a, 95) / percentile(b, 95));
    }
    raw.close();
    await store.close();
    const s = summarize(ratios);
    return { value: s.median, unit: "×", better: "lower", spread: s.spread };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Classification step ÷ a plain object copy of the same events. */
export function measureClassifyRatio(rounds: number): Figure {
  const classify = createClassifier();
  const events = sampleEvents(1024);
  const n = 300_000;
  const ratios: number[] = [];
  let sink = 0;
  for (let round = 0; round <= rounds; round++) {
    let t = performance.now();
    for (let i = 0; i < n; i++) {
      const e = events[i & 1023];
      const c = {
        ...e,
        priority: classify(e.hook_event_type as string) ? 1 : 0,
        received_at: 0,
      };
      sink += c.priority;
    }
    const a = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < n; i++) {
      const c = { ...events[i & 1023], priority: i & 1, received_at: 0 };
      sink += c.priority;
    }
    const b = performance.now() - t;
    if (round > 0) ratios.push(a / b);
  }
  if (sink < 0) console.log(sink);
  const s = summarize(ratios);
  return { value: s.median, unit: "×", better: "lower", spread: s.spread };
}

/** Broadcast p99 and lost events with 100 SSE clients at 1,000 events/s. */
export async function measureBroadcast(
  rounds: number,
): Promise<Record<string, Figure>> {
  const server = await startHookwatch();
  const p99: number[] = [];
  let lost = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const r = await fanoutRun({
        url: server.url,
        pid: server.pid,
        clients: 100,
        processes: 1,
        sample: 4,
        rate: 1000,
        seconds: 2,
        drainMs: 1500,
      });
      p99.push(r.p99_ms);
      lost += r.lost;
    }
  } finally {
    await server.stop();
  }
  const s = summarize(p99);
  return {
    broadcast_p99_ms_100_clients: {
      value: s.median,
      unit: "ms",
      better: "lower",
      spread: s.spread,
    },
    broadcast_lost_events: { value: lost, unit: "events", better: "lower" },
  };
}

/** Every figure of the check. */
export async function measureAll(): Promise<Record<string, Figure>> {
  const figures: Record<string, Figure> = {};
  Object.assign(figures, await measureIngestRatios({ rounds: 7, seconds: 1 }));
  figures.snapshot_p95_vs_raw_query = await measureSnapshotRatio(5);
  figures.classify_vs_object_copy = measureClassifyRatio(5);
  Object.assign(figures, await measureBroadcast(3));
  return figures;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const mode = Deno.args.find((a) => !a.startsWith("--")) ?? "ci";
  const started = performance.now();
  const figures = await measureAll();
  const seconds = Math.round((performance.now() - started) / 1000);
  if (mode === "baseline") {
    const path = args.get("out") ?? BASELINE_PATH;
    const machine = await machineInfo();
    await Deno.writeTextFile(
      path,
      JSON.stringify(
        {
          created_at: new Date().toISOString(),
          machine,
          figures,
        },
        null,
        2,
      ) + "\n",
    );
    printTable(
      `perf:baseline — wrote ${path} (${seconds} s)`,
      ["figure", "value", "spread"],
      Object.entries(figures).map(([k, f]) => [
        k,
        `${fmt(f.value, 3)} ${f.unit}`,
        f.spread === undefined ? "" : `${(f.spread * 100).toFixed(0)} %`,
      ]),
    );
  } else {
    const baseline = JSON.parse(
      await Deno.readTextFile(args.get("baseline") ?? BASELINE_PATH),
    );
    const rows = compare(baseline.figures, figures);
    printComparison(rows);
    await writeReportPart("perf_ci", { seconds, figures, comparison: rows });
    const bad = rows.filter((r) => r.regressed);
    console.log(
      bad.length === 0
        ? `perf:ci: no regression (${rows.length} figures, ${seconds} s)`
        : `perf:ci: REGRESSION in ${bad.map((r) => r.name).join(", ")}`,
    );
    if (bad.length > 0) Deno.exit(1);
  }
}
