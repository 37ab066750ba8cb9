/**
 * The cost of instrumentation: ingest throughput (`POST /events`, `hey -z 10s -c 16`) with
 * metrics on and with `HOOKWATCH_METRICS=off`, runs interleaved, medians and their ratio.
 *
 *   deno run -A bench/metrics_overhead.ts [--runs 5] [--seconds 10] [--concurrency 16]
 *
 * Prints one JSON object; `costPercent` is 1 − the median of the per-round on/off ratios.
 * Needs `hey` (Debian package hey). Loopback only.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sampleEvent, startServer } from "../tests/helpers/server.ts";

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

async function run(metrics: "on" | "off"): Promise<number> {
  const server = await startServer({
    dbPath: `${dir}/${metrics}-${crypto.randomUUID()}.db`,
    env: { HOOKWATCH_METRICS: metrics },
  });
  try {
    const { stdout, code } = await new Deno.Command("hey", {
      args: [
        "-z",
        `${seconds}s`,
        "-c",
        String(concurrency),
        "-m",
        "POST",
        "-T",
        "application/json",
        "-D",
        bodyPath,
        `${server.url}/events`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const text = new TextDecoder().decode(stdout);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
    const ok = /\[200\]\s+(\d+) responses/.exec(text)?.[1];
    if (code !== 0 || !rps || !ok) throw new Error(`hey failed:\n${text}`);
    const non200 = /\[(?!200\])\d+\]\s+\d+ responses/.test(text);
    if (non200) throw new Error(`non-200 answers:\n${text}`);
    return rps;
  } finally {
    await server.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const results: Record<"on" | "off", number[]> = { on: [], off: [] };
try {
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first so drift on a shared machine hits both alike.
    const order: ("on" | "off")[] = i % 2 ? ["off", "on"] : ["on", "off"];
    for (const mode of order) {
      const rps = await run(mode);
      results[mode].push(rps);
      console.error(
        `run ${i + 1}/${runs} metrics ${mode}: ${rps.toFixed(0)} req/s`,
      );
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const on = median(results.on);
const off = median(results.off);
// Runs i of both modes ran back to back: their ratio cancels most of the machine's drift.
const paired = results.on.map((rps, i) => rps / results.off[i]);
console.log(JSON.stringify(
  {
    command:
      `hey -z ${seconds}s -c ${concurrency} -m POST -T application/json -D body.json /events`,
    runs,
    requestsPerSecond: results,
    median: { on: Math.round(on), off: Math.round(off) },
    onOverOff: Number((on / off).toFixed(4)),
    pairedRatios: paired.map((r) => Number(r.toFixed(4))),
    medianPairedRatio: Number(median(paired).toFixed(4)),
    costPercent: Number(((1 - median(paired)) * 100).toFixed(2)),
  },
  null,
  2,
));
