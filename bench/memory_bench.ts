/**
 * Server memory while 1 M events flow through a real hookwatch process (batches of 500 from a
 * separate load process, paced to about 70 s) with short retention, so the sweeper (every 60 s)
 * deletes rows while ingest goes on. Samples RSS (from /proc) and heap (from `/health`) every second against the number of
 * stored events; reports growth over the run and per 1,000 events, per 100 k-event window.
 *
 * `deno run -A bench/memory_bench.ts [--events 1000000] [--batch 500] [--rate 14000]`
 *
 * @module
 */
import {
  fmt,
  parseArgs,
  printTable,
  promValue,
  ROOT,
  rssOf,
  sleep,
  startHookwatch,
  summarize,
  writeReportPart,
} from "./lib.ts";
import type { LoadResult } from "./load_gen.ts";

interface Sample {
  t: number;
  events: number;
  rss_mb: number;
  heap_mb: number;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const total = Number(args.get("events") ?? 1_000_000);
  const batch = Number(args.get("batch") ?? 500);
  // Paced so the run outlasts the sweeper's first 60 s interval: retention runs mid-flow.
  const rate = Number(args.get("rate") ?? Math.min(14_000, total / 70));
  const server = await startHookwatch({
    env: { RETENTION_REGULAR: "20s", RETENTION_PRIORITY: "40s" },
  });
  const samples: Sample[] = [];
  let load: LoadResult;
  let expired = 0;
  try {
    const t0 = performance.now();
    const sample = async () => {
      const [recent, health] = await Promise.all([
        fetch(`${server.url}/events/recent?limit=1`).then((r) => r.json()),
        fetch(`${server.url}/health`).then((r) => r.json()),
      ]);
      samples.push({
        t: (performance.now() - t0) / 1000,
        events: recent[0]?.id ?? 0,
        rss_mb: rssOf(server.pid) / 2 ** 20,
        heap_mb: Math.round(health.checks.memory.heapUsedMB * 10) / 10,
      });
    };
    await sample();
    const running = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}bench/load_gen.ts`,
        "--url",
        server.url,
        "--batch",
        String(batch),
        "--total",
        String(total),
        "--connections",
        "4",
        "--rate",
        String(rate),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    let done = false;
    running.finally(() => done = true);
    while (!done) {
      await sleep(1000);
      await sample();
      const last = samples.at(-1)!;
      if (samples.length % 10 === 0) {
        console.error(
          `memory: ${fmt(last.events)} events, RSS ${
            fmt(last.rss_mb)
          } MB, heap ${fmt(last.heap_mb)} MB`,
        );
      }
    }
    load = JSON.parse(new TextDecoder().decode((await running).stdout));
    // The sweep that started mid-flow may still be deleting: it counts when it is done.
    const deadline = performance.now() + 60_000;
    while (true) {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expired = promValue(metrics, "events_expired_total");
      await sample();
      if (expired > 0 || performance.now() > deadline) break;
      await sleep(1000);
    }
  } finally {
    await server.stop();
  }
  // Growth per 1,000 events in windows of ~100 k events, after the first (warm-up) window.
  const windows: number[] = [];
  const heapWindows: number[] = [];
  const step = total / 10;
  let from = samples.find((s) => s.events >= step) ?? samples[0];
  for (let k = 2; k <= 10; k++) {
    const to = samples.find((s) => s.events >= k * step);
    if (!to || to.events === from.events) continue;
    const per = (to.events - from.events) / 1000;
    windows.push((to.rss_mb - from.rss_mb) / per);
    heapWindows.push((to.heap_mb - from.heap_mb) / per);
    from = to;
  }
  const warm = samples.find((s) => s.events >= step) ?? samples[0];
  const last = samples.at(-1)!;
  const stored = samples.reduce((n, s) => Math.max(n, s.events), 0);
  const figures = {
    events: stored,
    seconds: load.seconds,
    events_per_sec: Math.round(load.rate),
    failed: load.failed,
    expired_by_retention: expired,
    rss_mb_start: Math.round(samples[0].rss_mb),
    rss_mb_after_warmup: Math.round(warm.rss_mb),
    rss_mb_end: Math.round(last.rss_mb),
    rss_mb_max: Math.round(Math.max(...samples.map((s) => s.rss_mb))),
    rss_growth_mb_after_warmup: Math.round(last.rss_mb - warm.rss_mb),
    heap_mb_start: samples[0].heap_mb,
    heap_mb_end: last.heap_mb,
    heap_mb_max: Math.max(...samples.map((s) => s.heap_mb)),
    rss_growth_mb_per_1000_events: summarize(windows),
    heap_growth_mb_per_1000_events: summarize(heapWindows),
    samples: samples.map((s) => [
      Math.round(s.t),
      s.events,
      Math.round(s.rss_mb),
      s.heap_mb,
    ]),
  };
  printTable(
    `server memory over ${
      fmt(figures.events)
    } events (batches of ${batch}; retention 20 s / 40 s; ${
      fmt(figures.expired_by_retention)
    } rows expired)`,
    ["figure", "value", "target"],
    [
      [
        "RSS start → after 100k → end (max), MB",
        `${figures.rss_mb_start} → ${figures.rss_mb_after_warmup} → ${figures.rss_mb_end} (${figures.rss_mb_max})`,
        "",
      ],
      [
        "RSS growth after warm-up, MB",
        figures.rss_growth_mb_after_warmup,
        "< 50 (PRODUCT)",
      ],
      [
        "RSS growth per 1,000 events, MB (median of windows)",
        fmt(figures.rss_growth_mb_per_1000_events.median, 4),
        "< 50 (guide)",
      ],
      [
        "heap start → end (max), MB",
        `${figures.heap_mb_start} → ${figures.heap_mb_end} (${figures.heap_mb_max})`,
        "",
      ],
      ["ingest rate, events/s", fmt(figures.events_per_sec), ""],
    ],
  );
  await writeReportPart("memory", {
    method:
      "load_gen.ts --batch (separate process) POSTs NDJSON batches; RSS from /proc/PID/status, heap from /health, sampled each second; windows of 100k events after the first",
    ...figures,
    targets: { growth_mb_over_1m: 50, guide_growth_mb_per_1000_events: 50 },
  });
}
