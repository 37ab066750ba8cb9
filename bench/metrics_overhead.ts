/**
 * The cost of instrumentation: ingest throughput (`POST /events`, `hey -z 10s -c 16`) with
 * metrics on and with `HOOKWATCH_METRICS=off`, runs interleaved, medians and their ratio.
 *
 *   deno run -A bench/metrics_overhead.ts [--runs 5] [--seconds 10] [--concurrency 16]
 *
 * Prints one JSON object: throughput (and 1 − the median of the per-round on/off ratios), and
 * the server's CPU time per request, which other load on a shared machine disturbs far less.
 * Needs `hey` (Debian package hey). Loopback only.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sampleEvent, startServer } from "../tests/helpers/server.ts";
import { cpuSeconds, fixed, median, runHey } from "./lib.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "16" },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

const dir = await Deno.makeTempDir({ prefix: "hookwatch-bench-" });
const bodyPath = `${dir}/body.json`;
await Deno.writeTextFile(bodyPath, JSON.stringify(sampleEvent()));

interface Run {
  rps: number;
  /** Server CPU per acknowledged request, µs: insensitive to other load on the machine. */
  cpuUs: number;
}

async function run(metrics: "on" | "off"): Promise<Run> {
  const server = await startServer({
    dbPath: `${dir}/${metrics}-${crypto.randomUUID()}.db`,
    env: { HOOKWATCH_METRICS: metrics },
  });
  try {
    const cpuBefore = cpuSeconds(server.process.pid);
    const result = await runHey({
      url: `${server.url}/events`,
      body: await Deno.readTextFile(bodyPath),
      seconds,
      connections: concurrency,
    });
    if (result.errors > 0) throw new Error(`hey saw ${result.errors} errors`);
    const rps = result.requestsPerSec;
    const ok = result.requests;
    const cpu = cpuSeconds(server.process.pid) - cpuBefore;
    return { rps, cpuUs: (cpu / ok) * 1e6 };
  } finally {
    await server.stop();
  }
}

const results: Record<"on" | "off", Run[]> = { on: [], off: [] };
try {
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first so drift on a shared machine hits both alike.
    const order: ("on" | "off")[] = i % 2 ? ["off", "on"] : ["on", "off"];
    for (const mode of order) {
      const r = await run(mode);
      results[mode].push(r);
      console.error(
        `run ${i + 1}/${runs} metrics ${mode}: ${r.rps.toFixed(0)} req/s, ` +
          `${r.cpuUs.toFixed(1)} µs server CPU/request`,
      );
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const rps = (mode: "on" | "off") => results[mode].map((r) => r.rps);
const cpu = (mode: "on" | "off") => results[mode].map((r) => r.cpuUs);
// Runs i of both modes ran back to back: their ratio cancels most of the machine's drift.
const paired = rps("on").map((on, i) => on / rps("off")[i]);
const round = (x: number, digits = 4) => fixed(x, digits);
console.log(JSON.stringify(
  {
    command:
      `hey -z ${seconds}s -c ${concurrency} -m POST -T application/json -D body.json /events`,
    runs,
    requestsPerSecond: {
      on: rps("on").map(Math.round),
      off: rps("off").map(Math.round),
    },
    medianRequestsPerSecond: {
      on: Math.round(median(rps("on"))),
      off: Math.round(median(rps("off"))),
    },
    medianPairedThroughputRatio: round(median(paired)),
    serverCpuUsPerRequest: {
      on: cpu("on").map((x) => round(x, 1)),
      off: cpu("off").map((x) => round(x, 1)),
    },
    medianServerCpuUsPerRequest: {
      on: round(median(cpu("on")), 1),
      off: round(median(cpu("off")), 1),
    },
    cpuCostPercent: round(
      (median(cpu("on")) / median(cpu("off")) - 1) * 100,
      2,
    ),
    throughputCostPercent: round((1 - median(paired)) * 100, 2),
  },
  null,
  2,
));
