/**
 * What hookwatch's installed hooks cost a real Codex, Gemini CLI or Copilot CLI turn, and
 * whether every event of it is kept: the pinned CLIs (tests/helpers/agent_clis.ts) offline
 * against their stand-ins, in interleaved rounds, with no hooks and with the hooks the
 * installer writes (`hooks:install --agent … --global`), against hookwatch up, down (nothing
 * listens) and hanging (accepts, never answers).
 *
 * Per case: the median wall time of the turn, and the median of the paired difference to the
 * same round's turn without hooks (the machine is shared and noisy: a round's runs are close in
 * time, so the pairing takes out most of the drift); and in how many runs every event of the
 * turn was kept: stored exactly once (up) or waiting in the hook's spool (down, hanging).
 *
 * Usage: `deno run -A bench/agents_cli_bench.ts [--agents codex,gemini,copilot] [--rounds 7]
 * [--out bench/results/agents_cli.json]`
 *
 * @module
 */
import {
  deadUrl,
  filesUnder,
  hangingServer,
} from "../tests/helpers/hook_run.ts";
import {
  fmt,
  machineInfo,
  median,
  parseArgs,
  printTable,
  ROOT,
  sleep,
  startHookwatch,
  summarize,
} from "./lib.ts";
import {
  AGENT_CASES,
  type AgentCase,
  type CliAgent,
  installer,
  programOf,
  removeSandbox,
  type Sandbox,
  sandbox,
  sendersDone,
} from "../tests/helpers/agent_runs.ts";
import { AGENT_PACKAGES } from "../tests/helpers/agent_clis.ts";

type Server = "none" | "up" | "down" | "hanging";
const CASES: Server[] = ["none", "up", "down", "hanging"];
/** How long the events may take to be stored or spooled after the CLI exits. */
const KEEP_BOUND_MS = 10_000;

const args = parseArgs(Deno.args);
const rounds = Number(args.get("rounds") ?? 7);
const agents = (args.get("agents") ?? "codex,gemini,copilot").split(
  ",",
) as CliAgent[];
const outPath = args.get("out") ?? `${ROOT}bench/results/agents_cli.json`;

/** How many of the session's events wait in the spool (inbox or spool files), by event_id. */
async function spooled(sb: Sandbox, sessionId: string): Promise<number> {
  const ids = new Set<string>();
  for (const file of await filesUnder(sb.spool)) {
    const text = await Deno.readTextFile(file).catch(() => "");
    if (file.endsWith(".hook") && text.includes(sessionId)) ids.add(file);
    for (const line of text.split("\n")) {
      if (!line.includes(sessionId) || !line.startsWith("{")) continue;
      try {
        ids.add(String(JSON.parse(line).event_id));
      } catch { /* not a spool line */ }
    }
  }
  return ids.size;
}

async function storedCount(url: string, sessionId: string): Promise<number> {
  const events: unknown[] = await (await fetch(
    `${url}/events/recent?session_id=${sessionId}&limit=1000`,
  )).json();
  return events.length;
}

interface RunRecord {
  round: number;
  wall_ms: number;
  kept: boolean;
}

async function runCase(
  c: AgentCase,
  program: string,
  server: Server,
  urls: Record<"up" | "down" | "hanging", string>,
): Promise<{ wall: number; kept: boolean }> {
  const sb = await sandbox("hookwatch-agents-bench-");
  const api = await c.startApi();
  try {
    if (server !== "none") {
      await installer(c, sb, "install", ["--server-url", urls[server]]);
    }
    const run = await c.run(sb, { program, api, timeoutMs: 120_000 });
    if (run.code !== 0 || !run.sessionId) {
      throw new Error(
        `${c.cli} (${server}) exited ${run.code}: ${run.stderr.slice(-500)}`,
      );
    }
    let kept = server === "none";
    if (server !== "none") {
      const want = c.turn.length;
      const until = performance.now() + KEEP_BOUND_MS;
      while (!kept && performance.now() < until) {
        const n = server === "up"
          ? await storedCount(urls.up, run.sessionId)
          : await spooled(sb, run.sessionId);
        kept = n === want;
        if (!kept) await sleep(200);
      }
      // Once more: a late duplicate is as wrong as a loss.
      if (kept && server === "up") {
        await sleep(500);
        kept = await storedCount(urls.up, run.sessionId) === want;
      }
    }
    return { wall: run.wallMs, kept };
  } finally {
    await api.close();
    await sendersDone(sb);
    await removeSandbox(sb);
  }
}

const hookwatch = await startHookwatch();
const hanging = hangingServer();
const urls = { up: hookwatch.url, down: deadUrl(), hanging: hanging.url };
const results: Record<string, Record<Server, RunRecord[]>> = {};
const versions: Record<string, string> = {};
try {
  for (const cli of agents) {
    const c = AGENT_CASES[cli];
    const program = await programOf(c, "agents_cli_bench");
    if (!program) throw new Error(`${cli} is not available`);
    versions[cli] = `${AGENT_PACKAGES[cli].name}@${
      AGENT_PACKAGES[cli].version
    }`;
    results[cli] = { none: [], up: [], down: [], hanging: [] };
    // One warm-up (caches, the sender's compile) not counted.
    await runCase(c, program, "up", urls);
    console.log(`${cli}: ${rounds} rounds × ${CASES.length} cases`);
    for (let round = 0; round < rounds; round++) {
      const order = CASES.map((_, i) => CASES[(i + round) % CASES.length]);
      for (const server of order) {
        const { wall, kept } = await runCase(c, program, server, urls);
        results[cli][server].push({
          round,
          wall_ms: Math.round(wall),
          kept,
        });
        console.log(
          `  round ${round + 1} ${server}: ${Math.round(wall)} ms${
            server === "none" ? "" : kept ? ", all kept" : ", NOT all kept"
          }`,
        );
      }
    }
  }
} finally {
  hanging.close();
  await hookwatch.stop();
}

const out: Record<string, unknown> = {};
const rows: (string | number)[][] = [];
for (const [cli, byCase] of Object.entries(results)) {
  const base = byCase.none;
  const cases: Record<string, unknown> = {};
  for (const server of CASES) {
    const runs = byCase[server];
    const wall = summarize(runs.map((r) => r.wall_ms));
    const paired = runs.map((r) =>
      r.wall_ms - (base.find((b) => b.round === r.round)?.wall_ms ?? NaN)
    );
    const added = server === "none" ? 0 : Math.round(median(paired));
    const kept = runs.filter((r) => r.kept).length;
    cases[server] = { wall_ms: wall, added_ms: added, kept_runs: kept, runs };
    rows.push([
      cli,
      server === "none" ? "no hooks" : `hooks, hookwatch ${server}`,
      fmt(wall.median, 0),
      fmt(wall.min, 0),
      fmt(wall.max, 0),
      server === "none" ? "—" : `${added}`,
      server === "none" ? "—" : `${kept}/${runs.length}`,
    ]);
  }
  out[cli] = { version: versions[cli], cases };
}
printTable(
  `one turn's wall time (ms), ${rounds} rounds; added = median of the paired difference to the same round's run without hooks; kept = every event stored once (up) or spooled (down, hanging)`,
  ["agent", "case", "median", "min", "max", "added", "kept"],
  rows,
);
await Deno.writeTextFile(
  outPath,
  JSON.stringify(
    {
      benchmark: "agents_cli",
      rounds,
      measured_at: new Date().toISOString(),
      machine: await machineInfo(),
      agents: out,
    },
    null,
    2,
  ) + "\n",
);
console.log(`\nwrote ${outPath}`);
