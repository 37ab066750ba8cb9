/**
 * Fan-out: many concurrent `GET /stream` clients (in a few client processes) while a separate
 * load process POSTs events at a fixed rate. Measures broadcast latency (client receipt − the
 * event's `received_at`, the server clock at arrival; same machine clock), events lost per
 * client (must be 0), and the server's RSS.
 *
 * `deno run -A bench/fanout_bench.ts [--runs 5] [--seconds 5] [--rate 1000]
 *   [--clients 100,1000] [--client deno|light]`
 *
 * @module
 */
import type { ClientsResult } from "./stream_clients.ts";
import type { LoadResult } from "./load_gen.ts";
import {
  cpuSeconds,
  fmt,
  parseArgs,
  printTable,
  ROOT,
  rssOf,
  sleep,
  startHookwatch,
  summarize,
  type Summary,
  writeReportPart,
} from "./lib.ts";

/** Options of one fan-out run. */
export interface FanoutOptions {
  url: string;
  /** Server process id, for RSS. */
  pid: number;
  clients: number;
  processes: number;
  /** Measure latency on every `sample`-th connection. */
  sample: number;
  rate: number;
  seconds: number;
  mode?: "sse" | "ws";
  field?: "received_at" | "timestamp";
  /** Time for the last frames to arrive after the load ends. */
  drainMs?: number;
  /**
   * `light`: one Node process on raw sockets (`stream_clients_light.mjs`) that reads only what
   * it times, far cheaper than the server; `deno`: `stream_clients.ts` processes (default).
   */
  client?: "deno" | "light";
}

/** What one fan-out run measured. */
export interface FanoutRun {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  samples: number;
  delivered: number;
  lost: number;
  ended_early: number;
  server_rss_mb_max: number;
  /** CPU used during the load window, % of one core: the server, and all client processes. */
  server_cpu_percent: number;
  clients_cpu_percent: number;
  /**
   * hookwatch's own `sse_broadcast_latency_seconds` (first frame queued → written to every
   * client), p99 bucket bound in ms; NaN for a server without it.
   */
  server_broadcast_p99_ms: number;
  load: LoadResult;
  errors: string[];
}

async function readLine(
  reader: ReadableStreamDefaultReader<string>,
  buffer: { text: string },
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!buffer.text.includes("\n")) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      reader.read(),
      new Promise<null>((r) =>
        timer = setTimeout(() => r(null), Math.max(1, deadline - Date.now()))
      ),
    ]).finally(() => clearTimeout(timer));
    if (result === null) throw new Error("client process did not answer");
    if (result.done) throw new Error("client process ended");
    buffer.text += result.value;
  }
  const at = buffer.text.indexOf("\n");
  const line = buffer.text.slice(0, at);
  buffer.text = buffer.text.slice(at + 1);
  return line;
}

/** Percentiles from a histogram of whole milliseconds. */
export function histogramPercentiles(
  hist: Map<number, number>,
  ps: number[],
): number[] {
  const keys = [...hist.keys()].sort((a, b) => a - b);
  const total = keys.reduce((n, k) => n + hist.get(k)!, 0);
  return ps.map((p) => {
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    let seen = 0;
    for (const k of keys) {
      seen += hist.get(k)!;
      if (seen >= rank) return k;
    }
    return NaN;
  });
}

/** Cumulative bucket counts of a Prometheus histogram, by upper bound. */
export function histogramBuckets(
  text: string,
  name: string,
): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(
    `^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\}\\s+(\\S+)`,
    "gm",
  );
  for (const m of text.matchAll(re)) {
    const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The upper bound of the bucket holding the `p`-th percentile of the difference `after − before`. */
export function bucketPercentile(
  before: Map<number, number>,
  after: Map<number, number>,
  p: number,
): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return NaN;
  for (const le of bounds) {
    if ((after.get(le)! - (before.get(le) ?? 0)) >= (p / 100) * total) {
      return le;
    }
  }
  return Infinity;
}

async function scrape(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/metrics`);
    return res.ok ? await res.text() : "";
  } catch {
    return "";
  }
}

/** One run: connect every client, send the load, collect. */
export async function fanoutRun(options: FanoutOptions): Promise<FanoutRun> {
  const mode = options.mode ?? "sse";
  const per = Math.ceil(options.clients / options.processes);
  const children: {
    child: Deno.ChildProcess;
    reader: ReadableStreamDefaultReader<string>;
    buffer: { text: string };
  }[] = [];
  for (let p = 0; p < options.processes; p++) {
    const count = Math.min(per, options.clients - p * per);
    const light = options.client === "light";
    const child = new Deno.Command(light ? "node" : Deno.execPath(), {
      args: [
        ...(light
          ? [`${ROOT}bench/stream_clients_light.mjs`]
          : ["run", "-A", `${ROOT}bench/stream_clients.ts`]),
        "--url",
        options.url,
        "--count",
        String(count),
        "--mode",
        mode,
        "--field",
        options.field ?? "received_at",
        "--sample",
        String(options.sample),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    children.push({ child, reader, buffer: { text: "" } });
  }
  const stopAll = async () => {
    for (const c of children) {
      try {
        const writer = c.child.stdin.getWriter();
        await writer.write(new TextEncoder().encode("stop\n"));
        await writer.close();
      } catch { /* already closed */ }
    }
  };
  try {
    for (const c of children) {
      const line = await readLine(c.reader, c.buffer, 90_000);
      if (line !== "ready") throw new Error(`client process said ${line}`);
    }
    let rssMax = rssOf(options.pid);
    const cpuOf = (pids: number[]) =>
      pids.reduce((n, pid) => {
        try {
          return n + cpuSeconds(pid);
        } catch {
          return n;
        }
      }, 0);
    const clientPids = children.map((c) => c.child.pid);
    const METRIC = "sse_broadcast_latency_seconds";
    const broadcastBefore = histogramBuckets(await scrape(options.url), METRIC);
    const cpu0 = [cpuOf([options.pid]), cpuOf(clientPids), performance.now()];
    const load = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}bench/load_gen.ts`,
        "--url",
        options.url,
        "--rate",
        String(options.rate),
        "--seconds",
        String(options.seconds),
        // Enough requests in flight to keep the pace when the machine is busy.
        "--connections",
        "32",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    let done = false;
    const sampler = (async () => {
      while (!done) {
        try {
          rssMax = Math.max(rssMax, rssOf(options.pid));
        } catch { /* gone */ }
        await sleep(200);
      }
    })();
    const loadOut = await load;
    const wall = (performance.now() - cpu0[2]) / 1000;
    const serverCpu = (cpuOf([options.pid]) - cpu0[0]) / wall * 100;
    const clientsCpu = (cpuOf(clientPids) - cpu0[1]) / wall * 100;
    await sleep(options.drainMs ?? 2000);
    const broadcastP99 = bucketPercentile(
      broadcastBefore,
      histogramBuckets(await scrape(options.url), METRIC),
      99,
    ) * 1000;
    done = true;
    await sampler;
    const loadResult = JSON.parse(
      new TextDecoder().decode(loadOut.stdout).trim(),
    ) as LoadResult;
    let finalId = 0;
    if (mode === "sse") {
      const res = await fetch(`${options.url}/events/recent?limit=1`);
      const body = await res.json();
      const list = Array.isArray(body) ? body : body.events;
      finalId = list?.[0]?.id ?? 0;
    }
    await stopAll();
    const hist = new Map<number, number>();
    let delivered = 0, lost = 0, ended = 0;
    const errors: string[] = [];
    for (const c of children) {
      const result = JSON.parse(
        await readLine(c.reader, c.buffer, 30_000),
      ) as ClientsResult;
      for (const [k, v] of Object.entries(result.histogram)) {
        hist.set(Number(k), (hist.get(Number(k)) ?? 0) + v);
      }
      result.counts.forEach((n, i) => {
        delivered += n;
        const expected = mode === "sse"
          ? finalId - result.snapshot_ids[i]
          : loadResult.ok;
        lost += Math.max(0, expected - n);
      });
      ended += result.ended;
      errors.push(...result.errors);
    }
    const [p50, p99, max] = histogramPercentiles(hist, [50, 99, 100]);
    return {
      p50_ms: p50,
      p99_ms: p99,
      max_ms: max,
      samples: [...hist.values()].reduce((a, b) => a + b, 0),
      delivered,
      lost,
      ended_early: ended,
      server_rss_mb_max: Math.round(rssMax / 2 ** 20),
      server_cpu_percent: Math.round(serverCpu),
      clients_cpu_percent: Math.round(clientsCpu),
      server_broadcast_p99_ms: broadcastP99,
      load: loadResult,
      errors: errors.slice(0, 5),
    };
  } finally {
    await stopAll();
    for (const c of children) {
      const timer = setTimeout(() => {
        try {
          c.child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await c.reader.cancel().catch(() => {});
      await c.child.status;
      clearTimeout(timer);
    }
  }
}

/** Summary of several runs of one scenario. */
export interface FanoutFigures {
  clients: number;
  rate: number;
  p50_ms: Summary;
  p99_ms: Summary;
  max_ms: Summary;
  lost_total: number;
  ended_early_total: number;
  delivered_per_sec: Summary;
  server_rss_mb_max: Summary;
  server_cpu_percent: Summary;
  clients_cpu_percent: Summary;
  /** Server-side broadcast p99 (bucket bound), ms. */
  server_broadcast_p99_ms: Summary;
  achieved_rate: Summary;
  errors: string[];
}

/** Summarises runs of one scenario. */
export function summarizeFanout(
  clients: number,
  rate: number,
  runs: FanoutRun[],
): FanoutFigures {
  return {
    clients,
    rate,
    p50_ms: summarize(runs.map((r) => r.p50_ms)),
    p99_ms: summarize(runs.map((r) => r.p99_ms)),
    max_ms: summarize(runs.map((r) => r.max_ms)),
    lost_total: runs.reduce((n, r) => n + r.lost, 0),
    ended_early_total: runs.reduce((n, r) => n + r.ended_early, 0),
    delivered_per_sec: summarize(
      runs.map((r) => r.delivered / r.load.seconds),
    ),
    server_rss_mb_max: summarize(runs.map((r) => r.server_rss_mb_max)),
    server_cpu_percent: summarize(runs.map((r) => r.server_cpu_percent)),
    clients_cpu_percent: summarize(runs.map((r) => r.clients_cpu_percent)),
    server_broadcast_p99_ms: summarize(
      runs.map((r) => r.server_broadcast_p99_ms),
    ),
    achieved_rate: summarize(runs.map((r) => r.load.rate)),
    errors: runs.flatMap((r) => r.errors).slice(0, 5),
  };
}

/**
 * Process layout for a client count: about 250 connections per Deno client process, or one
 * light process; latency is sampled on about 100 connections.
 */
export function layout(
  clients: number,
  client: "deno" | "light" = "deno",
): { processes: number; sample: number; client: "deno" | "light" } {
  if (client === "light") {
    return { processes: 1, sample: Math.ceil(clients / 100), client };
  }
  return clients <= 100 ? { processes: 1, sample: 1, client } : {
    processes: Math.ceil(clients / 250),
    sample: Math.ceil(clients / 100),
    client,
  };
}

/** Prints the fan-out table. */
export function printFanout(title: string, figures: FanoutFigures[]): void {
  printTable(
    title,
    [
      "clients × events/s",
      "p50 ms",
      "p99 ms",
      "p99 min–max",
      "lost",
      "dropped",
      "deliveries/s",
      "RSS MB",
      "CPU % server / clients",
      "server-side p99 ≤ ms",
    ],
    figures.map((f) => [
      `${fmt(f.clients, 0)} × ${fmt(f.achieved_rate.median, 0)}`,
      fmt(f.p50_ms.median, 0),
      fmt(f.p99_ms.median, 0),
      `${f.p99_ms.min}–${f.p99_ms.max}`,
      f.lost_total,
      f.ended_early_total,
      fmt(f.delivered_per_sec.median),
      fmt(f.server_rss_mb_max.median, 0),
      `${f.server_cpu_percent.median} / ${f.clients_cpu_percent.median}`,
      String(f.server_broadcast_p99_ms.median),
    ]),
  );
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const runs = Number(args.get("runs") ?? 5);
  const seconds = Number(args.get("seconds") ?? 5);
  const rate = Number(args.get("rate") ?? 1000);
  const clientCounts = (args.get("clients") ?? "100,1000").split(",").map(
    Number,
  );
  const client = args.get("client") === "light" ? "light" : "deno";
  const figures: FanoutFigures[] = [];
  for (const clients of clientCounts) {
    const server = await startHookwatch();
    const results: FanoutRun[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        const r = await fanoutRun({
          url: server.url,
          pid: server.pid,
          clients,
          ...layout(clients, client),
          rate,
          seconds,
        });
        console.error(
          `fanout ${clients} clients run ${
            run + 1
          }: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, lost ${r.lost}, dropped ${r.ended_early}, rate ${
            fmt(r.load.rate)
          }/s, CPU % server ${r.server_cpu_percent} clients ${r.clients_cpu_percent}, server-side p99 ≤ ${r.server_broadcast_p99_ms} ms`,
        );
        results.push(r);
      }
    } finally {
      await server.stop();
    }
    figures.push(summarizeFanout(clients, rate, results));
  }
  printFanout(
    `fan-out over SSE (${runs} runs × ${seconds} s; latency = client receipt − server received_at)`,
    figures,
  );
  await writeReportPart("fanout", {
    runs,
    seconds_per_run: seconds,
    method:
      "stream_clients.ts processes (~250 connections each; latency sampled on ~100 connections) + load_gen.ts process posting single events at a fixed rate; lost = (last stored id − snapshot id) − events received, per client",
    scenarios: figures,
    targets: {
      broadcast_p99_ms_100_clients: 10,
      p99_ms_1000_clients_1000_eps: 100,
      lost: 0,
    },
  });
}
