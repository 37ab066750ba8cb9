/**
 * `deno task bench`: every benchmark, each in its own process, then one KPI table against the
 * guide's numbers and PRODUCT.md's targets. Writes `performance-report.json` at the root.
 *
 * `deno run -A bench/run_all.ts [--quick]` (`--quick`: fewer runs, no 1 M-row query, 200 k
 * events for memory; for trying the harness, not for figures)
 *
 * @module
 */
import {
  fmt,
  parseArgs,
  printTable,
  readReport,
  REPORT_PATH,
  runBenchProcess,
  writeReportPart,
} from "./lib.ts";

/** One KPI row. */
export interface Kpi {
  kpi: string;
  measured: string;
  guide: string;
  product: string;
  /** Whether the stricter of the two targets is met. */
  met: boolean | null;
}

// deno-lint-ignore no-explicit-any -- the report is plain JSON written by the benchmarks
type Json = any;

/** Builds the KPI table from a report. */
export function kpis(report: Json): Kpi[] {
  const p = report.parts ?? {};
  const rows: Kpi[] = [];
  const c = p.classification;
  if (c) {
    rows.push({
      kpi: "classification per event",
      measured: `${fmt(c.classify_step_ns.median)} ns (classifier alone ${
        fmt(c.classifier_ns.median)
      } ns)`,
      guide: "< 1 ms",
      product: "< 1 µs",
      met: c.classify_step_ns.median < 1000,
    });
  }
  const i = p.ingest?.cases;
  if (i) {
    for (const [name, f] of Object.entries(i) as [string, Json][]) {
      rows.push({
        kpi: `ingest ${name}`,
        measured: `${fmt(f.events_per_sec.median)} events/s, p50 ${
          fmt(f.p50_ms.median, 2)
        } ms, p99 ${fmt(f.p99_ms.median, 1)} ms, ${
          fmt(f.commit_batch_mean.median)
        } events/commit`,
        guide: "≥ 1,000 events/s",
        product: "≥ 3× original (see compare_original)",
        met: f.events_per_sec.median >= 1000,
      });
    }
  }
  const q = p.query?.sizes as Json[] | undefined;
  if (q) {
    for (const size of q) {
      const name = Object.keys(size.with_indexes).find((n) =>
        n.startsWith("snapshot")
      )!;
      const s = size.with_indexes[name];
      rows.push({
        kpi: `priority (snapshot) query at ${fmt(size.rows)} rows`,
        measured: `p95 ${fmt(s.p95_ms.median, 2)} ms (p50 ${
          fmt(s.p50_ms.median, 2)
        }, p99 ${fmt(s.p99_ms.median, 2)})`,
        guide: "p95 < 100 ms",
        product: size.rows >= 1_000_000 ? "p95 < 5 ms" : "—",
        met: size.rows >= 1_000_000
          ? s.p95_ms.median < 5
          : s.p95_ms.median < 100,
      });
      const speed = Object.entries(size.index_speedup_p95).map(([k, v]) =>
        `${k.replace(/ \(.*\)/, "")} ${v}×`
      ).join(", ");
      rows.push({
        kpi: `index speedup (p95 without ÷ with) at ${fmt(size.rows)} rows`,
        measured: speed,
        guide: "10× with indexes",
        product: "—",
        met: Object.values(size.index_speedup_p95 as Record<string, number>)
          .every((v) => v >= 10),
      });
    }
  }
  for (const f of (p.fanout?.scenarios ?? []) as Json[]) {
    const target = f.clients <= 100 ? 10 : 100;
    rows.push({
      kpi: `broadcast latency, ${fmt(f.clients, 0)} SSE clients at ${
        fmt(f.achieved_rate.median, 0)
      } events/s`,
      measured:
        `p50 ${f.p50_ms.median} ms, p99 ${f.p99_ms.median} ms; lost ${f.lost_total}, dropped ${f.ended_early_total}; ${
          fmt(f.delivered_per_sec.median)
        } deliveries/s; server RSS ${f.server_rss_mb_max.median} MB`,
      guide: f.clients >= 1000
        ? "1,000+ clients; broadcast < 10 ms"
        : "broadcast < 10 ms",
      product: `p99 < ${target} ms, nothing lost`,
      met: f.p99_ms.median < target && f.lost_total === 0,
    });
  }
  const m = p.memory;
  if (m) {
    rows.push({
      kpi: `server memory over ${fmt(m.events)} events (retention running)`,
      measured:
        `RSS ${m.rss_mb_after_warmup} → ${m.rss_mb_end} MB (+${m.rss_growth_mb_after_warmup} MB after the first 100 k; max ${m.rss_mb_max}); ${
          fmt(m.rss_growth_mb_per_1000_events.median, 3)
        } MB per 1,000 events; heap ${m.heap_mb_end} MB at end`,
      guide: "< 50 MB per 1,000 events",
      product: "< 50 MB growth over 1 M",
      met: m.rss_growth_mb_after_warmup < 50,
    });
  }
  const o = p.overhead;
  if (o) {
    rows.push({
      kpi: "priority metadata ÷ stream bytes",
      measured: `${fmt(o.percent.median, 2)} %`,
      guide: "< 5 %",
      product: "< 5 %",
      met: o.percent.median < 5,
    });
  }
  return rows;
}

/** Prints the KPI table. */
export function printKpis(rows: Kpi[]): void {
  printTable(
    "KPIs (guide = monitoring-guide.md, product = PRODUCT.md targets)",
    ["kpi", "met", "measured", "guide", "product"],
    rows.map((r) => [
      r.kpi,
      r.met === null ? "?" : r.met ? "yes" : "NO",
      r.measured,
      r.guide,
      r.product,
    ]),
  );
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const quick = args.has("quick");
  const started = performance.now();
  await Deno.remove(REPORT_PATH).catch(() => {});
  const plan: [string, string[]][] = quick
    ? [
      ["classify_bench.ts", ["--runs", "5", "--events", "200000"]],
      ["ingest_bench.ts", ["--runs", "5", "--seconds", "1"]],
      ["query_bench.ts", ["--runs", "5", "--sizes", "10000,100000"]],
      ["fanout_bench.ts", ["--runs", "5", "--seconds", "2"]],
      ["memory_bench.ts", ["--events", "200000"]],
      ["overhead_bench.ts", ["--runs", "5", "--events", "500"]],
    ]
    : [
      ["classify_bench.ts", []],
      ["ingest_bench.ts", []],
      ["query_bench.ts", []],
      ["fanout_bench.ts", ["--seconds", "4"]],
      ["memory_bench.ts", []],
      ["overhead_bench.ts", []],
    ];
  const timings: Record<string, number> = {};
  for (const [script, flags] of plan) {
    const t = performance.now();
    console.log(`\n=== ${script} ${flags.join(" ")}`);
    await runBenchProcess(script, flags);
    timings[script] = Math.round((performance.now() - t) / 1000);
  }
  const rows = kpis(await readReport());
  printKpis(rows);
  await writeReportPart("kpis", rows);
  await writeReportPart("run", {
    quick,
    seconds_total: Math.round((performance.now() - started) / 1000),
    seconds_per_bench: timings,
  });
  console.log(
    `\nwrote ${REPORT_PATH} in ${
      Math.round((performance.now() - started) / 1000)
    } s`,
  );
}
