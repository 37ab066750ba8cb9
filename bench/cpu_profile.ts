/**
 * Where the server's time goes under ingest load: starts hookwatch with `--cpu-prof`, drives
 * `wrk` (single events, concurrency 16, or `--fanout N` stream clients at 1,000 events/s),
 * stops it, and sums the V8 profile's self time by function and by area (hookwatch code, Hono,
 * OpenTelemetry, node:sqlite, runtime/HTTP, GC, idle).
 *
 * `deno run -A bench/cpu_profile.ts [--seconds 5] [--connections 16] [--batch] [--fanout 100 [--rate 1000]]
 *   [--top 25] [--keep DIR]`
 *
 * @module
 */
import { bodiesFor, INGEST_CASES } from "./ingest_bench.ts";
import { fanoutRun } from "./fanout_bench.ts";
import {
  fmt,
  parseArgs,
  printTable,
  runWrk,
  startHookwatch,
  writeReportPart,
} from "./lib.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the stack a frame belongs to. */
export function area(url: string, name: string): string {
  if (name === "(idle)") return "idle";
  if (name === "(garbage collector)") return "GC";
  if (name === "(program)") return "runtime (native)";
  if (url.includes("/lib/")) return "hookwatch lib/";
  if (url.includes("/common/")) return "hookwatch common/";
  if (url.includes("/routes/") || url.endsWith("/app.ts")) {
    return "hookwatch routes/";
  }
  if (url.includes("/otel/")) return "hookwatch otel/";
  if (url.includes("hono")) return "Hono";
  if (url.includes("opentelemetry")) return "OpenTelemetry";
  if (url.includes("node:sqlite") || url.includes("sqlite")) {
    return "node:sqlite";
  }
  // node:sqlite's DatabaseSync/StatementSync methods are native frames without a URL.
  if (url === "" && ["exec", "get", "run", "all", "prepare"].includes(name)) {
    return "node:sqlite (exec = BEGIN/COMMIT, get = INSERT … RETURNING)";
  }
  if (url.startsWith("ext:") || url.startsWith("node:")) {
    return "Deno runtime (HTTP, streams, timers)";
  }
  return url === "" ? "native / builtins" : "other";
}

/** Self time per function and per area, in ms. */
export function summarizeProfile(profile: Profile): {
  totalMs: number;
  byArea: [string, number][];
  byFunction: [string, number][];
} {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const a = area(url, functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + ms);
    const short = url.replace(/^.*\/(node_modules|npm|main)\//, "");
    const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  const sort = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs, byArea: sort(byArea), byFunction: sort(byFunction) };
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const seconds = Number(args.get("seconds") ?? 5);
  const connections = Number(args.get("connections") ?? 16);
  const fanout = Number(args.get("fanout") ?? 0);
  const top = Number(args.get("top") ?? 25);
  const dir = args.get("keep") ??
    await Deno.makeTempDir({ prefix: "hookwatch-prof-" });
  const server = await startHookwatch({
    denoFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  });
  let workload: string;
  try {
    if (fanout > 0) {
      workload = `${fanout} SSE clients, 1,000 events/s for ${seconds} s`;
      await fanoutRun({
        url: server.url,
        pid: server.pid,
        clients: fanout,
        processes: Math.ceil(fanout / 250),
        sample: Math.max(1, Math.ceil(fanout / 100)),
        rate: Number(args.get("rate") ?? 1000),
        seconds,
      });
    } else {
      const c = INGEST_CASES.find((c) =>
        c.name === (args.has("batch") ? "batch100 c=4" : "single c=16")
      )!;
      workload = `wrk ${
        c.batch > 1 ? `batches of ${c.batch}` : "single events"
      } c=${connections} for ${seconds} s`;
      const r = await runWrk({
        url: server.url + c.path,
        path: c.path,
        bodies: bodiesFor(c),
        connections,
        seconds,
      });
      workload += ` (${fmt(r.requestsPerSec * c.batch)} events/s)`;
    }
  } finally {
    await server.stop();
  }
  // One profile per isolate: the server's thread, and the SQLite checkpoint worker's (which
  // mostly waits on the disk). The server's is by far the largest.
  const file = [...Deno.readDirSync(dir)]
    .filter((e) => e.name.endsWith(".cpuprofile"))
    .map((e) => ({
      name: e.name,
      size: Deno.statSync(`${dir}/${e.name}`).size,
    }))
    .sort((a, b) => b.size - a.size)[0];
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const profile = JSON.parse(
    await Deno.readTextFile(`${dir}/${file.name}`),
  ) as Profile;
  const s = summarizeProfile(profile);
  const busy = s.totalMs - (s.byArea.find(([a]) => a === "idle")?.[1] ?? 0);
  printTable(
    `server CPU profile, ${workload}: self time by area (busy ${
      fmt(busy)
    } ms of ${fmt(s.totalMs)} ms)`,
    ["area", "ms", "% of busy"],
    s.byArea.filter(([a]) => a !== "idle").map(([a, ms]) => [
      a,
      fmt(ms),
      fmt((ms / busy) * 100),
    ]),
  );
  printTable(
    `top ${top} functions by self time`,
    ["function", "ms", "% of busy"],
    s.byFunction.filter(([f]) => !f.startsWith("(idle)")).slice(0, top).map((
      [f, ms],
    ) => [f.slice(0, 110), fmt(ms), fmt((ms / busy) * 100)]),
  );
  const part = fanout > 0
    ? "profile_fanout"
    : args.has("batch")
    ? "profile_ingest_batch"
    : `profile_ingest_c${connections}`;
  await writeReportPart(part, {
    workload,
    busy_ms: Math.round(busy),
    by_area: s.byArea.map(([a, ms]) => [a, Math.round(ms)]),
    top_functions: s.byFunction.slice(0, top).map((
      [f, ms],
    ) => [f, Math.round(ms)]),
    profile: args.has("keep") ? `${dir}/${file.name}` : null,
  });
  if (!args.has("keep")) await Deno.remove(dir, { recursive: true });
}
