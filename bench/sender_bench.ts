/**
 * Wall time of the hook sender as Claude Code runs it (a fresh process, Deno start-up
 * included, hook JSON on stdin) with the server up, down (connection refused) and hanging
 * (accepts, never answers). Runs are interleaved across the cases so load from other work on
 * the machine falls on all of them alike. Also measures `deno run` of an empty script: the
 * start-up floor no sender can go below.
 *
 *   deno run -A bench/sender_bench.ts [--runs 100] [--event PreToolUse]
 *
 * Prints a table and writes `bench/results/sender.json`. Loopback only.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startServer } from "../tests/helpers/server.ts";
import { percentile } from "./lib.ts";
import { DEFAULT_DEADLINE_MS, DEFAULT_TIMEOUT_MS } from "../hooks/config.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "100" },
    event: { type: "string", default: "PreToolUse" },
  },
});
const runs = Number(values.runs);
const SENDER = fileURLToPath(
  new URL("../hooks/send_event.ts", import.meta.url),
);
const input = new TextEncoder().encode(
  await Deno.readTextFile(
    fileURLToPath(
      new URL(`../tests/fixtures/hooks/${values.event}.json`, import.meta.url),
    ),
  ),
);
const TARGET_P99_MS = 150;

const dir = await Deno.makeTempDir({ prefix: "hookwatch-sender-bench-" });
const empty = `${dir}/empty.ts`;
await Deno.writeTextFile(empty, "");

async function timeRun(args: string[], spool: string): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: {
      HOOKWATCH_SPOOL_DIR: spool,
      HOOKWATCH_URL: "",
      HOOKWATCH_TOKEN: "",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const out = await child.output();
  const ms = performance.now() - started;
  if (out.code !== 0 || out.stdout.length > 0) {
    throw new Error(
      `sender exited ${out.code}, stdout ${out.stdout.length} bytes: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return ms;
}

function senderArgs(url: string): string[] {
  return [
    "run",
    "--no-config",
    "--no-prompt",
    "--quiet",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    SENDER,
    "--source-app",
    "sender-bench",
    "--server-url",
    url,
  ];
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => percentile(sorted, q * 100);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    runs: sorted.length,
    median_ms: round(at(0.5)),
    p90_ms: round(at(0.9)),
    p99_ms: round(at(0.99)),
    min_ms: round(sorted[0]),
    max_ms: round(sorted[sorted.length - 1]),
  };
}

const server = await startServer({ dbPath: `${dir}/hookwatch.db` });
const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const downUrl = `http://127.0.0.1:${closed.addr.port}`;
closed.close();
const hanging = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const held: Deno.Conn[] = [];
const accepting = (async () => {
  for await (const conn of hanging) held.push(conn);
})();

const cases: Record<string, { args: string[]; spool: string }> = {
  "deno start-up only": {
    args: ["run", "--no-config", empty],
    spool: `${dir}/s0`,
  },
  "server up": { args: senderArgs(server.url), spool: `${dir}/s1` },
  "server down": { args: senderArgs(downUrl), spool: `${dir}/s2` },
  "server hanging": {
    args: senderArgs(`http://127.0.0.1:${hanging.addr.port}`),
    spool: `${dir}/s3`,
  },
};
const samples: Record<string, number[]> = {};
try {
  for (const { args, spool } of Object.values(cases)) {
    await timeRun(args, spool); // warm the module cache
  }
  await Deno.remove(`${dir}/s2`, { recursive: true }).catch(() => {});
  await Deno.remove(`${dir}/s3`, { recursive: true }).catch(() => {});
  for (let i = 0; i < runs; i++) {
    for (const [name, { args, spool }] of Object.entries(cases)) {
      (samples[name] ??= []).push(await timeRun(args, spool));
    }
    for (const conn of held.splice(0)) conn.close();
  }
  const stored = await (await fetch(
    `${server.url}/events/recent?source_app=sender-bench&limit=1000`,
  )).json();
  if (stored.length !== runs + 1) {
    throw new Error(`server up: ${stored.length} stored, expected ${runs + 1}`);
  }
  for (const name of ["server down", "server hanging"]) {
    let lines = 0;
    for await (const entry of Deno.readDir(cases[name].spool)) {
      if (entry.name.startsWith("spool-")) {
        lines += (await Deno.readTextFile(`${cases[name].spool}/${entry.name}`))
          .split("\n").filter(Boolean).length;
      }
    }
    if (lines !== runs) {
      throw new Error(`${name}: ${lines} spooled, expected ${runs}`);
    }
  }
} finally {
  hanging.close();
  await accepting.catch(() => {});
  for (const conn of held) conn.close();
  await server.stop();
}

const results = Object.fromEntries(
  Object.entries(samples).map(([name, ms]) => [name, summary(ms)]),
);
console.log(
  `hook sender wall time, ${runs} runs per case (process spawn to exit, Deno start-up included)`,
);
console.log("case                 median    p90     p99     max   (ms)");
for (const [name, s] of Object.entries(results)) {
  console.log(
    `${name.padEnd(20)} ${String(s.median_ms).padStart(6)} ${
      String(s.p90_ms).padStart(6)
    } ${String(s.p99_ms).padStart(7)} ${String(s.max_ms).padStart(7)}`,
  );
}
const report = {
  benchmark: "sender",
  date: new Date().toISOString(),
  command:
    `deno run -A bench/sender_bench.ts --runs ${runs} --event ${values.event}`,
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
  timeout_ms: DEFAULT_TIMEOUT_MS,
  deadline_ms: DEFAULT_DEADLINE_MS,
  target_p99_ms: TARGET_P99_MS,
  results,
  meets_target: ["server up", "server down", "server hanging"].every((name) =>
    results[name].p99_ms < TARGET_P99_MS
  ),
};
const out = fileURLToPath(new URL("./results/sender.json", import.meta.url));
await Deno.mkdir(fileURLToPath(new URL("./results/", import.meta.url)), {
  recursive: true,
});
await Deno.writeTextFile(out, JSON.stringify(report, null, 2) + "\n");
console.log(`wrote ${out}`);
await Deno.remove(dir, { recursive: true });
