/**
 * Before and after: the same single-event ingest load against hookwatch built from two trees
 * (say `git worktree add /tmp/before <commit>`), rounds interleaved and the order alternated,
 * a fresh server and database per round. Reports events/s and the server's CPU time per event
 * (from `/proc`, every thread), each as the median of the per-round ratios: CPU per event moves
 * far less with the machine's noise than throughput does.
 *
 * `deno run -A bench/ab_ingest.ts --before DIR [--after .] [--rounds 7] [--seconds 2]
 *   [--connections 1,16,64]`
 *
 * @module
 */
import { bodiesFor, INGEST_CASES } from "./ingest_bench.ts";
import {
  cpuSeconds,
  fmt,
  parseArgs,
  printTable,
  runWrk,
  spawnServer,
  summarize,
} from "./lib.ts";

/** Events/s and server CPU µs per event of one round against the tree at `cwd`. */
async function round(
  cwd: string,
  connections: number,
  seconds: number,
): Promise<{ eventsPerSec: number; cpuUs: number }> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-ab-" });
  const server = await spawnServer(Deno.execPath(), ["run", "-A", "main.ts"], {
    cwd,
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: `sqlite:${dir}/hookwatch.db`,
    },
    listening: /listening on (http:\/\/[^\s"]+)/,
  });
  try {
    const before = cpuSeconds(server.pid);
    const r = await runWrk({
      url: server.url + "/events",
      path: "/events",
      bodies: bodiesFor(INGEST_CASES[0]),
      connections,
      seconds,
    });
    if (r.errors > 0) throw new Error(`${cwd}: ${r.errors} failed requests`);
    return {
      eventsPerSec: r.requestsPerSec,
      cpuUs: (cpuSeconds(server.pid) - before) * 1e6 / r.requests,
    };
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const trees = {
    before: args.get("before") ?? "",
    after: args.get("after") ?? ".",
  };
  if (!trees.before) throw new Error("--before DIR (a tree of the old code)");
  const rounds = Number(args.get("rounds") ?? 7);
  const seconds = Number(args.get("seconds") ?? 2);
  const levels = (args.get("connections") ?? "1,16,64").split(",").map(Number);
  const rows: string[][] = [];
  for (const connections of levels) {
    const rate: number[] = [], cpu: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2
        ? ["after", "before"] as const
        : ["before", "after"] as const;
      const got: Record<string, { eventsPerSec: number; cpuUs: number }> = {};
      for (const tree of order) {
        got[tree] = await round(trees[tree], connections, seconds);
      }
      rate.push(got.after.eventsPerSec / got.before.eventsPerSec);
      cpu.push(got.after.cpuUs / got.before.cpuUs);
    }
    const r = summarize(rate), c = summarize(cpu);
    rows.push([
      `c=${connections}`,
      `${fmt(r.median, 2)}× (${fmt(r.min, 2)}–${fmt(r.max, 2)})`,
      `${fmt(c.median, 2)}× (${fmt(c.min, 2)}–${fmt(c.max, 2)})`,
    ]);
  }
  printTable(
    `after ÷ before, wrk single events, ${rounds} interleaved rounds × ${seconds} s`,
    ["load", "events/s", "server CPU per event"],
    rows,
  );
}
