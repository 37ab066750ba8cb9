/**
 * Side by side with the tool people use today: starts the original Bun observability server
 * (disler/claude-code-hooks-multi-agent-observability, `apps/server`) and hookwatch on loopback,
 * runs the same ingest load (`wrk`, single events at concurrency 1, 16, 64; rounds interleaved)
 * and the same fan-out load (stream clients while 1,000 events/s are posted) against both, and
 * prints the ratios. Nothing of the original is copied here: give the path of a checkout.
 *
 * `deno run -A bench/compare_original.ts /path/to/original/apps/server [--bun PATH]
 *   [--runs 5] [--seconds 3] [--clients 100,1000] [--fanout-seconds 4] [--tools wrk,hey]
 *   [--only ingest|fanout] [--client light|deno]`
 *
 * Fan-out uses the light stream clients (one Node process on raw sockets, `--client light`) by
 * default: the Deno ones cost more CPU than the server they measure.
 *
 * Ingest covers hookwatch's `POST /events` and `POST /hooks/:source_app` (raw hook input), both
 * against the original's `POST /events` in the same round; `hey` posts one body repeatedly.
 * The same rounds time `bench/reference_server.ts`, a bare `Deno.serve` JSON echo that stores
 * nothing: the most the decided stack's HTTP layer allows, against the original.
 *
 * Bun installs from npm (`npm install -g bun`, or `npm install bun` in a scratch folder and
 * pass `--bun that/node_modules/.bin/bun`). The original binds every interface by default; a
 * preload written to a temporary folder here makes it bind 127.0.0.1 only, and it runs in a
 * temporary working folder so its `events.db` goes there.
 *
 * Fan-out latency is measured the same way for both: client receipt − the event's `timestamp`,
 * stamped by the load generator when it sends (the original has no server arrival time), so it
 * covers POST, store and broadcast.
 *
 * @module
 */
import { bodiesFor, INGEST_CASES } from "./ingest_bench.ts";
import {
  type FanoutFigures,
  type FanoutRun,
  fanoutRun,
  layout,
  printFanout,
  summarizeFanout,
} from "./fanout_bench.ts";
import {
  fmt,
  hookPayloads,
  parseArgs,
  printTable,
  runHey,
  runWrk,
  type ServerProcess,
  spawnServer,
  startHookwatch,
  startReference,
  summarize,
  writeReportPart,
} from "./lib.ts";

const LOOPBACK_PRELOAD = `const serve = Bun.serve.bind(Bun);
Bun.serve = (options) => serve({ ...options, hostname: "127.0.0.1" });
`;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts the original server from `serverDir` with `bun`, on loopback, in a scratch folder. */
export async function startOriginal(
  serverDir: string,
  bun: string,
): Promise<ServerProcess> {
  const dir = await Deno.makeTempDir({ prefix: "original-server-" });
  const preload = `${dir}/loopback.js`;
  await Deno.writeTextFile(preload, LOOPBACK_PRELOAD);
  const entry = `${serverDir.replace(/\/$/, "")}/src/index.ts`;
  await Deno.stat(entry).catch(() => {
    throw new Error(`${entry} not found: pass the path of apps/server`);
  });
  const server = await spawnServer(bun, ["--preload", preload, entry], {
    cwd: dir,
    env: { SERVER_PORT: String(freePort()) },
    listening: /Server running on http:\/\/localhost:(\d+)/,
    toUrl: (m) => `http://127.0.0.1:${m[1]}`,
  });
  return {
    ...server,
    async stop() {
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const serverDir = Deno.args.find((a, i) =>
    !a.startsWith("--") && (i === 0 || !Deno.args[i - 1].startsWith("--"))
  );
  if (!serverDir) {
    console.error(
      "usage: deno run -A bench/compare_original.ts /path/to/apps/server [--bun PATH]",
    );
    Deno.exit(2);
  }
  const bun = args.get("bun") ?? "bun";
  const runs = Number(args.get("runs") ?? 5);
  const seconds = Number(args.get("seconds") ?? 3);
  const fanoutSeconds = Number(args.get("fanout-seconds") ?? 4);
  const clientCounts = (args.get("clients") ?? "100,1000").split(",").map(
    Number,
  );
  const rate = Number(args.get("rate") ?? 1000);
  const version = new TextDecoder().decode(
    (await new Deno.Command(bun, { args: ["--version"], stdout: "piped" })
      .output()).stdout,
  ).trim();

  const only = args.get("only");
  const client = args.get("client") === "deno" ? "deno" : "light";
  const tools = (args.get("tools") ?? "wrk,hey").split(",");
  // Ingest: both servers up, rounds interleaved so both see the same machine.
  const hookBodies = Object.values(hookPayloads()).map((p) =>
    JSON.stringify(p)
  );
  const cases = INGEST_CASES.filter((c) => c.path === "/events");
  type Load = { hw: number[]; hooks: number[]; orig: number[]; ref: number[] };
  const load = (): Load => ({ hw: [], hooks: [], orig: [], ref: [] });
  const eps = new Map<string, Load>();
  const p99 = new Map<string, Load>();
  const post = (
    tool: string,
    url: string,
    path: string,
    bodies: string[],
    connections: number,
  ) =>
    tool === "wrk"
      ? runWrk({ url: url + path, path, bodies, connections, seconds })
      : runHey({ url: url + path, body: bodies[0], connections, seconds });
  if (only !== "fanout") {
    const hw = await startHookwatch();
    const orig = await startOriginal(serverDir, bun);
    const ref = await startReference();
    try {
      for (const server of [hw, orig, ref]) {
        await runWrk({
          url: `${server.url}/events`,
          path: "/events",
          bodies: bodiesFor(cases[0]).slice(0, 10),
          connections: 4,
          seconds: 1,
        });
      }
      for (let round = 0; round < runs; round++) {
        for (const tool of tools) {
          for (const c of cases) {
            const name = `${tool} ${c.name}`;
            const runsOf = [
              ["hw", hw, c.path, bodiesFor(c)],
              ["orig", orig, c.path, bodiesFor(c)],
              ["hooks", hw, "/hooks/app-0", hookBodies],
              ["ref", ref, c.path, bodiesFor(c)],
            ] as const;
            for (const [key, server, path, bodies] of runsOf) {
              const r = await post(
                tool,
                server.url,
                path,
                [...bodies],
                c.connections,
              );
              if (r.errors > 0) {
                throw new Error(`${key} ${name}: ${r.errors} failed requests`);
              }
              const e = eps.get(name) ?? load();
              e[key].push(r.requestsPerSec);
              eps.set(name, e);
              const l = p99.get(name) ?? load();
              l[key].push(r.p99Ms);
              p99.set(name, l);
            }
          }
        }
      }
    } finally {
      await hw.stop();
      await orig.stop();
      await ref.stop();
    }
  }
  const ingest: Record<string, unknown> = {};
  const ingestRows: (string | number)[][] = [];
  for (const [name, e] of eps) {
    const l = p99.get(name)!;
    const ratios = summarize(e.hw.map((h, i) => h / e.orig[i]));
    const hookRatios = summarize(e.hooks.map((h, i) => h / e.orig[i]));
    const refRatios = summarize(e.ref.map((h, i) => h / e.orig[i]));
    ingest[name] = {
      hookwatch_events_per_sec: summarize(e.hw),
      hookwatch_hooks_per_sec: summarize(e.hooks),
      original_events_per_sec: summarize(e.orig),
      hookwatch_p99_ms: summarize(l.hw),
      hookwatch_hooks_p99_ms: summarize(l.hooks),
      original_p99_ms: summarize(l.orig),
      reference_events_per_sec: summarize(e.ref),
      ratio: ratios,
      hooks_ratio: hookRatios,
      reference_ratio: refRatios,
    };
    const range = (r: typeof ratios) =>
      `${fmt(r.median, 2)}× (${fmt(r.min, 2)}–${fmt(r.max, 2)})`;
    ingestRows.push([
      name,
      fmt(summarize(e.hw).median),
      fmt(summarize(e.hooks).median),
      fmt(summarize(e.orig).median),
      range(ratios),
      range(hookRatios),
      range(refRatios),
      `${fmt(summarize(l.hw).median, 2)} / ${
        fmt(summarize(l.hooks).median, 2)
      } / ${fmt(summarize(l.orig).median, 2)}`,
    ]);
  }
  if (ingestRows.length > 0) {
    printTable(
      `ingest side by side (${runs} interleaved rounds × ${seconds} s; original on Bun ${version})`,
      [
        "case",
        "hw /events ev/s",
        "hw /hooks ev/s",
        "original ev/s",
        "/events ratio (median, range)",
        "/hooks ratio",
        "bare Deno.serve ratio",
        "p99 ms events / hooks / orig",
      ],
      ingestRows,
    );
  }

  // Fan-out: the same clients and load against each, one server at a time.
  const fanout: Record<string, FanoutFigures[]> = {
    hookwatch: [],
    original: [],
  };
  for (const clients of only === "ingest" ? [] : clientCounts) {
    for (const which of ["hookwatch", "original"] as const) {
      const server = which === "hookwatch"
        ? await startHookwatch()
        : await startOriginal(serverDir, bun);
      const results: FanoutRun[] = [];
      try {
        for (let run = 0; run < Math.min(runs, 3); run++) {
          const r = await fanoutRun({
            url: server.url,
            pid: server.pid,
            clients,
            ...layout(clients, client),
            rate,
            seconds: fanoutSeconds,
            mode: which === "hookwatch" ? "sse" : "ws",
            field: "timestamp",
            drainMs: 3000,
          });
          console.error(
            `${which} ${clients} clients: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, lost ${r.lost}, rate ${
              fmt(r.load.rate)
            }/s`,
          );
          results.push(r);
        }
      } finally {
        await server.stop();
      }
      fanout[which].push(summarizeFanout(clients, rate, results));
    }
  }
  printFanout(
    "fan-out, hookwatch (SSE); latency = client receipt − send time",
    fanout.hookwatch,
  );
  printFanout(
    `fan-out, original (WebSocket, Bun ${version}); same measure`,
    fanout.original,
  );
  await writeReportPart("compare_original", {
    original: "disler/claude-code-hooks-multi-agent-observability apps/server",
    bun: version,
    runs,
    ingest,
    fanout,
  });
}
