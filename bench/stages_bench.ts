/**
 * Where one event's time goes, stage by stage, from the poster's send to the stream client's
 * read: hookwatch runs in this process with stage tracing on (`lib/base/stages.ts`: received,
 * parsed, validated, redacted, committed, fed, encoded, written into each client's stream,
 * answered), a separate process posts
 * single events at an ordinary rate on one connection (`load_gen.ts --trace`), and light
 * stream clients in another (`stream_clients_light.mjs`) time each frame against the event's
 * send time. Prints, per stage, the median and p99 since the send and the step from the stage
 * before, and the clients' end-to-end figures.
 *
 * `deno run -A bench/stages_bench.ts [--rate 50] [--seconds 10] [--clients 100]
 *   [--connections 1]`
 *
 * @module
 */
import { loadConfig } from "../lib/base/config.ts";
import { createHookwatch } from "../lib/hookwatch.ts";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { createApp } from "../app.ts";
import { type Stage, STAGES, stages } from "../lib/base/stages.ts";
import { fmt, parseArgs, printTable, ROOT, sleep } from "./lib.ts";

/** Median and p99 of `values` (ms). */
function spread(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Runs the clients and the poster against a traced in-process hookwatch. */
export async function stagesRun(options: {
  rate: number;
  seconds: number;
  clients: number;
  connections: number;
}) {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-stages-" });
  const store = SqliteStore.open(`${dir}/hookwatch.db`, {
    checkpointInWorker: true,
  });
  const hw = createHookwatch(loadConfig({}), store, { sweep: false });
  const app = createApp(hw);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    app.fetch,
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  stages.on = true;
  stages.marks.clear();
  const clients = new Deno.Command("node", {
    args: [
      `${ROOT}bench/stream_clients_light.mjs`,
      "--url",
      url,
      "--count",
      String(options.clients),
      "--field",
      "timestamp",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = clients.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  const line = async () => {
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("the clients ended");
      text += value;
    }
    const [first, ...rest] = text.split("\n");
    text = rest.join("\n");
    return first;
  };
  try {
    if (await line() !== "ready") throw new Error("clients not ready");
    const poster = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}bench/load_gen.ts`,
        "--url",
        url,
        "--rate",
        String(options.rate),
        "--seconds",
        String(options.seconds),
        "--connections",
        String(options.connections),
        "--trace",
        "1",
      ],
      stdout: "piped",
    }).output();
    const load = JSON.parse(new TextDecoder().decode(poster.stdout));
    await sleep(500);
    const writer = clients.stdin.getWriter();
    await writer.write(new TextEncoder().encode("stop\n"));
    await writer.close();
    const result = JSON.parse(await line()) as {
      histogram: Record<string, number>;
    };
    const clientMs: number[] = [];
    for (const [ms, n] of Object.entries(result.histogram)) {
      for (let i = 0; i < n; i++) clientMs.push(Number(ms));
    }
    // The send time is in each stored event's payload.
    const sent = new Map<string, number>();
    for (const e of await store.recent({ limit: 100_000 })) {
      if (e.event_id && typeof e.payload.sent_at === "number") {
        sent.set(e.event_id, e.payload.sent_at);
      }
    }
    const since = new Map<Stage, number[]>(STAGES.map((s) => [s, []]));
    const step = new Map<Stage, number[]>(STAGES.map((s) => [s, []]));
    for (const [id, times] of stages.marks) {
      const t0 = sent.get(id);
      if (t0 === undefined) continue;
      let before = t0;
      for (const s of STAGES) {
        const t = times[s];
        if (t === undefined) continue;
        since.get(s)!.push(t - t0);
        step.get(s)!.push(t - before);
        before = t;
      }
    }
    return { load, since, step, client: spread(clientMs), clientMs };
  } finally {
    stages.on = false;
    try {
      clients.kill("SIGTERM");
    } catch { /* gone */ }
    await clients.status;
    await server.shutdown();
    await hw.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const options = {
    rate: Number(args.get("rate") ?? 50),
    seconds: Number(args.get("seconds") ?? 10),
    clients: Number(args.get("clients") ?? 100),
    connections: Number(args.get("connections") ?? 1),
  };
  const run = await stagesRun(options);
  printTable(
    `one event's path, ${options.clients} stream clients, ${options.rate} events/s on ${options.connections} connection(s) for ${options.seconds} s (${run.load.ok} events)`,
    ["stage", "since send p50", "p99", "step p50", "p99"],
    STAGES.map((s) => {
      const a = spread(run.since.get(s)!);
      const b = spread(run.step.get(s)!);
      return [s, fmt(a.p50, 2), fmt(a.p99, 2), fmt(b.p50, 2), fmt(b.p99, 2)];
    }).concat([[
      "read by a client",
      fmt(run.client.p50, 0),
      fmt(run.client.p99, 0),
      "",
      "",
    ]]),
  );
  console.log(
    "ms; the clients read whole milliseconds of the event's timestamp (the send time).",
  );
}
