/**
 * Scale-out figures: ingest throughput and broadcast latency for one SQLite replica, one
 * PostgreSQL replica and two PostgreSQL replicas sharing a database. Runs are interleaved
 * (fresh database each run) and reported as medians with ratios to SQLite.
 *
 *   deno run -A bench/replicas_bench.ts [--runs 3] [--seconds 5] [--concurrency 16]
 *     [--rate 200] [--events 1000] [--clients 2] [--pg-synchronous-commit on|off]
 *
 * - Throughput: `hey -z <seconds>s -c <concurrency>` POSTing one event to `/events`; with two
 *   replicas, two `hey` processes (half the concurrency each, one per replica) run at once
 *   and their rates add up.
 * - Broadcast latency: `--events` events posted at `--rate` per second (round robin over the
 *   replicas) while `--clients` stream clients per replica read `/stream`; the latency of one
 *   event at one client is from just before its POST to the moment its frame is parsed
 *   (sender and readers share this process's clock). With two replicas half the deliveries
 *   cross replicas (NOTIFY → read by id → fan-out). p50/p99 over every (event, client) pair.
 *
 * PostgreSQL runs with fsync on in a throwaway cluster (Debian's postgresql) and, by default,
 * `synchronous_commit=on` (each commit waits for its WAL flush); `--pg-synchronous-commit off`
 * measures without that wait. Needs `hey`. Everything is on 127.0.0.1 and bounded.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  sampleEvent,
  startServer,
  type TestServer,
} from "../tests/helpers/server.ts";
import { type PgCluster, startCluster } from "../tests/helpers/postgres.ts";
import { fixed, median, quantile, runHey } from "./lib.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "16" },
    rate: { type: "string", default: "200" },
    events: { type: "string", default: "1000" },
    clients: { type: "string", default: "2" },
    "pg-synchronous-commit": { type: "string", default: "on" },
    setups: { type: "string", default: "sqlite-1,postgres-1,postgres-2" },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rate = Number(values.rate);
const eventCount = Number(values.events);
const clientsPerReplica = Number(values.clients);

type Setup = "sqlite-1" | "postgres-1" | "postgres-2";
const SETUPS = values.setups.split(",") as Setup[];
for (const setup of SETUPS) {
  if (!["sqlite-1", "postgres-1", "postgres-2"].includes(setup)) {
    throw new Error(`--setups: unknown setup ${setup}`);
  }
}

const dir = await Deno.makeTempDir({ prefix: "hookwatch-replicas-bench-" });
const bodyPath = `${dir}/body.json`;
await Deno.writeTextFile(bodyPath, JSON.stringify(sampleEvent()));

async function startSetup(
  setup: Setup,
  cluster: PgCluster,
): Promise<TestServer[]> {
  if (setup === "sqlite-1") {
    return [await startServer({ dbPath: `${dir}/${crypto.randomUUID()}.db` })];
  }
  const url = await cluster.createDatabase();
  const n = setup === "postgres-2" ? 2 : 1;
  const servers: TestServer[] = [];
  // One after the other: the first migrates, the second finds the schema in place.
  for (let i = 0; i < n; i++) {
    servers.push(await startServer({ env: { DATABASE_URL: url } }));
  }
  return servers;
}

async function hey(url: string, c: number): Promise<number> {
  const result = await runHey({
    url: `${url}/events`,
    body: await Deno.readTextFile(bodyPath),
    seconds,
    connections: c,
  });
  if (result.errors > 0) throw new Error(`hey saw ${result.errors} errors`);
  return result.requestsPerSec;
}

async function throughput(servers: TestServer[]): Promise<number> {
  const per = Math.max(1, Math.round(concurrency / servers.length));
  const rates = await Promise.all(servers.map((s) => hey(s.url, per)));
  return rates.reduce((a, b) => a + b, 0);
}

/** Reads a stream, calling `onEvent(summary, at)` for every event frame. */
async function readStream(
  url: string,
  signal: AbortSignal,
  onEvent: (summary: string, at: number) => void,
): Promise<void> {
  const res = await fetch(`${url}/stream`, { signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  // Aborting the fetch does not always end a read on the piped stream: cancel it too.
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}), {
    once: true,
  });
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      const at = performance.now();
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.includes("event: event")) continue;
        const data = block.split("\n").find((l) => l.startsWith("data: "));
        if (data) onEvent(JSON.parse(data.slice(6)).summary, at);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

async function latency(
  servers: TestServer[],
): Promise<{ p50: number; p99: number; cross?: { p50: number; p99: number } }> {
  const sentAt = new Map<string, { at: number; via: number }>();
  const all: number[] = [];
  const cross: number[] = [];
  const expected = eventCount * servers.length * clientsPerReplica;
  let received = 0;
  let done!: () => void;
  const complete = new Promise<void>((resolve) => done = resolve);
  const abort = new AbortController();
  const readers = servers.flatMap((server, replica) =>
    Array.from(
      { length: clientsPerReplica },
      () =>
        readStream(server.url, abort.signal, (summary, at) => {
          const sent = sentAt.get(summary);
          if (!sent) return;
          const ms = at - sent.at;
          all.push(ms);
          if (sent.via !== replica) cross.push(ms);
          if (++received === expected) done();
        }),
    )
  );
  await new Promise((resolve) => setTimeout(resolve, 300)); // streams connected
  const interval = 1000 / rate;
  const start = performance.now();
  const posts: Promise<void>[] = [];
  for (let i = 0; i < eventCount; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const via = i % servers.length;
    const summary = `lat-${i}`;
    sentAt.set(summary, { at: performance.now(), via });
    posts.push(
      fetch(`${servers[via].url}/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(sampleEvent({ summary })),
        signal: AbortSignal.timeout(15_000),
      }).then(async (res) => {
        await res.body?.cancel();
        if (res.status !== 200) throw new Error(`POST answered ${res.status}`);
      }),
    );
  }
  const posted = Promise.all(posts);
  const watch = setInterval(
    () => console.error(`  waiting: ${received}/${expected} deliveries`),
    5000,
  );
  await posted.finally(() => clearInterval(watch));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    complete,
    new Promise((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`only ${received} of ${expected} deliveries`)),
        15_000,
      )
    ),
  ]).finally(() => clearTimeout(timer));
  abort.abort();
  await Promise.allSettled(readers);
  const result: {
    p50: number;
    p99: number;
    cross?: { p50: number; p99: number };
  } = {
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
  };
  if (cross.length) {
    result.cross = { p50: quantile(cross, 0.5), p99: quantile(cross, 0.99) };
  }
  return result;
}

const round = (x: number, digits = 2) => fixed(x, digits);

const raw: Record<
  Setup,
  { rps: number[]; p50: number[]; p99: number[]; crossP99: number[] }
> = {
  "sqlite-1": { rps: [], p50: [], p99: [], crossP99: [] },
  "postgres-1": { rps: [], p50: [], p99: [], crossP99: [] },
  "postgres-2": { rps: [], p50: [], p99: [], crossP99: [] },
};
const synchronousCommit = values["pg-synchronous-commit"];
const cluster = await startCluster({
  settings: {
    fsync: "on",
    full_page_writes: "on",
    synchronous_commit: synchronousCommit,
  },
});
try {
  for (let i = 0; i < runs; i++) {
    // Rotate the order so drift on a shared machine hits every setup alike.
    const order = SETUPS.map((_, k) => SETUPS[(k + i) % SETUPS.length]);
    for (const setup of order) {
      console.error(`run ${i + 1}/${runs} ${setup}: starting`);
      const servers = await startSetup(setup, cluster);
      try {
        // Latency first, on a quiet system; then throughput.
        const lat = await latency(servers);
        console.error(`  latency done, measuring throughput`);
        const rps = await throughput(servers);
        raw[setup].rps.push(round(rps, 0));
        raw[setup].p50.push(round(lat.p50));
        raw[setup].p99.push(round(lat.p99));
        if (lat.cross) raw[setup].crossP99.push(round(lat.cross.p99));
        console.error(
          `run ${i + 1}/${runs} ${setup}: ${
            rps.toFixed(0)
          } req/s, broadcast p50 ${lat.p50.toFixed(2)} ms p99 ${
            lat.p99.toFixed(2)
          } ms${
            lat.cross
              ? ` (cross-replica p99 ${lat.cross.p99.toFixed(2)} ms)`
              : ""
          }`,
        );
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
  }
} finally {
  await cluster.destroy();
  await Deno.remove(dir, { recursive: true });
}

const summary = Object.fromEntries(SETUPS.map((setup) => {
  const r = raw[setup];
  return [setup, {
    ingestPerSecond: median(r.rps),
    broadcastP50Ms: median(r.p50),
    broadcastP99Ms: median(r.p99),
    ...(r.crossP99.length ? { crossReplicaP99Ms: median(r.crossP99) } : {}),
  }];
}));
const sqliteRps = summary["sqlite-1"]?.ingestPerSecond;
console.log(JSON.stringify(
  {
    command:
      `hey -z ${seconds}s -c ${concurrency} (split over the replicas) POST /events; then ${eventCount} events at ${rate}/s with ${clientsPerReplica} stream clients per replica`,
    runs,
    cpus: navigator.hardwareConcurrency,
    postgres: { fsync: "on", synchronous_commit: synchronousCommit },
    raw,
    median: summary,
    ingestRatioToSqlite: sqliteRps
      ? Object.fromEntries(
        SETUPS.map((
          s,
        ) => [s, round(summary[s].ingestPerSecond / sqliteRps, 3)]),
      )
      : null,
  },
  null,
  2,
));
