/**
 * What hookwatch's hooks cost a real `claude -p` run, and whether the priority events arrive:
 * the pinned Claude Code CLI against the scripted Messages API (tests/helpers/), in interleaved
 * rounds, with no hooks, with native http hooks, and with the installed command hooks, each
 * against hookwatch up, down (nothing listening) and hanging (accepts, never answers).
 *
 * Per case: the median wall time of the run; the median time from the end of the turn (from
 * `--debug-file`) to the exit, and in how many runs the CLI cancelled an async hook still
 * running then (a cancel often costs the run about 1.5 s, which the wall time on a busy machine
 * hides); and in how many runs every Stop, SubagentStop and SessionEnd was kept: stored by
 * hookwatch (up), or waiting in the hook's spool to be replayed (down, hanging).
 *
 * Usage: `deno run -A bench/claude_cli_bench.ts [--rounds 5] [--out bench/results/claude_cli.json]`
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
  parseArgs,
  printTable,
  ROOT,
  sleep,
  startHookwatch,
  summarize,
  type Summary,
} from "./lib.ts";
import { startFakeAnthropic } from "../tests/helpers/fake_anthropic.ts";
import {
  cancelledHooks,
  CLAUDE_CODE_VERSION,
  installClaude,
  installHooks,
  runClaude,
} from "../tests/helpers/claude_cli.ts";

type Hooks = "none" | "http" | "command";
type Server = "up" | "down" | "hanging";
interface Case {
  name: string;
  hooks: Hooks;
  server: Server;
}

const CASES: Case[] = [
  { name: "no hooks", hooks: "none", server: "up" },
  ...(["http", "command"] as const).flatMap((hooks) =>
    (["up", "down", "hanging"] as const).map((server) => ({
      name: `${hooks} hooks, hookwatch ${server}`,
      hooks,
      server,
    }))
  ),
];
/** The events whose loss the bench counts. */
const KEPT_TYPES = ["Stop", "SubagentStop", "SessionEnd"];
/** The core types, for the http settings (SessionStart takes only command hooks). */
const CORE_TYPES = [
  "SessionStart",
  "SessionEnd",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
  "PermissionRequest",
  "Notification",
  "SubagentStart",
  "SubagentStop",
  "Stop",
  "PreCompact",
];
const PROMPT =
  "Write hello to out.txt, read it back, then have a subagent check it.";
/** How long the priority events may take to be stored or spooled after the CLI exits. */
const KEEP_BOUND_MS = 10_000;

const args = parseArgs(Deno.args);
const rounds = Number(args.get("rounds") ?? 5);
const outPath = args.get("out") ?? `${ROOT}bench/results/claude_cli.json`;

const claude = await installClaude();
if (!claude.path) {
  console.error(
    `Claude Code ${CLAUDE_CODE_VERSION} unavailable: ${claude.error}`,
  );
  Deno.exit(1);
}
const binary = claude.path;

async function writeSettings(
  project: string,
  home: string,
  hooks: Hooks,
  url: string,
): Promise<void> {
  await Deno.mkdir(`${project}/.claude`, { recursive: true });
  if (hooks === "http") {
    const target = `${url}/hooks/bench`;
    const settings: Record<string, unknown> = {};
    for (const type of CORE_TYPES) {
      settings[type] = [{
        hooks: [
          type === "SessionStart"
            ? {
              type: "command",
              command:
                `curl -sS -m 1 -o /dev/null -H 'content-type: application/json' --data-binary @- ${target} || true`,
            }
            : { type: "http", url: target, timeout: 2 },
        ],
      }];
    }
    await Deno.writeTextFile(
      `${project}/.claude/settings.json`,
      JSON.stringify({ hooks: settings }, null, 2),
    );
  } else if (hooks === "command") {
    await installHooks({ project, serverUrl: url, home });
  }
}

/** The KEPT_TYPES of the session found in the hook's spool (inbox or spool files). */
async function spooledTypes(
  spool: string,
  sessionId: string,
): Promise<Set<string>> {
  const found = new Set<string>();
  const session = new RegExp(`"session_id"\\s*:\\s*"${sessionId}"`);
  for (const file of await filesUnder(spool)) {
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const line of text.split("\n")) {
      if (!session.test(line)) continue;
      for (const type of KEPT_TYPES) {
        if (
          new RegExp(`"hook_event_(name|type)"\\s*:\\s*"${type}"`).test(line)
        ) found.add(type);
      }
    }
  }
  return found;
}

async function storedTypes(
  url: string,
  sessionId: string,
): Promise<Set<string>> {
  const res = await fetch(
    `${url}/events/recent?session_id=${sessionId}&limit=1000`,
  );
  const events: { hook_event_type: string }[] = await res.json();
  const counts = new Map<string, number>();
  for (const e of events) {
    counts.set(e.hook_event_type, (counts.get(e.hook_event_type) ?? 0) + 1);
  }
  // Exactly once: a duplicate is as wrong as a loss.
  return new Set(KEPT_TYPES.filter((t) => counts.get(t) === 1));
}

interface RunRecord {
  round: number;
  wall_ms: number;
  /** From the end of the turn (`--debug-file`) to the exit. */
  after_turn_ms: number;
  /** The hooks the CLI cancelled at the end of the turn. */
  cancelled: string[];
  kept: boolean;
  missing: string[];
}

const hookwatch = await startHookwatch();
const api = await startFakeAnthropic();
const hanging = hangingServer();
const results = new Map<string, RunRecord[]>(CASES.map((c) => [c.name, []]));
console.log(
  `claude -p with hookwatch's hooks: ${rounds} rounds × ${CASES.length} cases (Claude Code ${CLAUDE_CODE_VERSION})`,
);
try {
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so no case always runs right after the same one.
    const order = CASES.map((_, i) => CASES[(i + round) % CASES.length]);
    for (const c of order) {
      const root = await Deno.makeTempDir({
        prefix: "hookwatch-claude-bench-",
      });
      const project = `${root}/project`, home = `${root}/home`;
      const spool = `${home}/.local/state/hookwatch`;
      await Deno.mkdir(home, { recursive: true });
      const url = c.server === "up"
        ? hookwatch.url
        : c.server === "hanging"
        ? hanging.url
        : deadUrl();
      await writeSettings(project, home, c.hooks, url);
      const debugFile = `${root}/debug.txt`;
      const run = await runClaude({
        binary,
        prompt: PROMPT,
        cwd: project,
        home,
        apiUrl: api.url,
        debugFile,
        args: ["--output-format", "json"],
        timeoutMs: 180_000,
      });
      const exitedAt = Date.now();
      const debug = await Deno.readTextFile(debugFile).catch(() => "");
      const turnEnd = debug.split("\n").findLast((l) =>
        /\[engine\] turn \d+ end/.test(l)
      );
      const afterTurn = turnEnd
        ? exitedAt - Date.parse(turnEnd.slice(0, 24))
        : NaN;
      const cancelled = await cancelledHooks(debugFile);
      let sessionId = "";
      try {
        sessionId = JSON.parse(run.stdout).session_id ?? "";
      } catch { /* reported below */ }
      if (run.code !== 0 || !sessionId) {
        throw new Error(
          `${c.name}: claude exited ${run.code}: ${run.stderr.slice(0, 500)}`,
        );
      }
      let missing = [...KEPT_TYPES];
      if (c.hooks !== "none") {
        const until = performance.now() + KEEP_BOUND_MS;
        while (true) {
          const kept = c.server === "up"
            ? await storedTypes(hookwatch.url, sessionId)
            : await spooledTypes(spool, sessionId);
          missing = KEPT_TYPES.filter((t) => !kept.has(t));
          if (missing.length === 0 || performance.now() > until) break;
          await sleep(200);
        }
        // Detached senders let go of the spool before it is removed (bounded).
        const idleBy = performance.now() + 10_000;
        while (performance.now() < idleBy) {
          const names = await Array.fromAsync(
            Deno.readDir(spool),
            (e) => e.name,
          )
            .catch(() => []);
          if (!names.some((n) => n.startsWith("run-"))) break;
          await sleep(200);
        }
      }
      results.get(c.name)!.push({
        round,
        wall_ms: Math.round(run.wallMs),
        after_turn_ms: afterTurn,
        cancelled,
        kept: c.hooks !== "none" && missing.length === 0,
        missing: c.hooks === "none" ? [] : missing,
      });
      console.log(
        `round ${round + 1} ${c.name}: ${
          Math.round(run.wallMs)
        } ms, exit ${afterTurn} ms after the turn${
          cancelled.length ? ` (cancelled ${cancelled.join(", ")})` : ""
        }${
          c.hooks === "none"
            ? ""
            : missing.length
            ? `, missing ${missing.join(", ")}`
            : ", all kept"
        }`,
      );
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  }
} finally {
  hanging.close();
  await api.close();
  await hookwatch.stop();
}

const baseline = summarize(
  results.get("no hooks")!.map((r) => r.wall_ms),
).median;
const cases: Record<string, unknown> = {};
const rows: (string | number)[][] = [];
for (const c of CASES) {
  const runs = results.get(c.name)!;
  const wall: Summary = summarize(runs.map((r) => r.wall_ms));
  const afterTurn: Summary = summarize(runs.map((r) => r.after_turn_ms));
  const cancelledRuns = runs.filter((r) => r.cancelled.length > 0).length;
  const kept = runs.filter((r) => r.kept).length;
  cases[c.name] = {
    hooks: c.hooks,
    server: c.server,
    wall_ms: wall,
    added_ms: Math.round(wall.median - baseline),
    after_turn_ms: afterTurn,
    cancelled_runs: cancelledRuns,
    kept_runs: c.hooks === "none" ? null : kept,
    runs,
  };
  rows.push([
    c.name,
    fmt(wall.median, 0),
    fmt(wall.min, 0),
    fmt(wall.max, 0),
    c.hooks === "none" ? "—" : `${Math.round(wall.median - baseline)}`,
    fmt(afterTurn.median, 0),
    `${cancelledRuns}/${runs.length}`,
    c.hooks === "none" ? "—" : `${kept}/${runs.length}`,
  ]);
}
printTable(
  `claude -p wall time (ms), ${rounds} rounds; kept = every Stop, SubagentStop and SessionEnd stored once (up) or spooled (down, hanging)`,
  [
    "case",
    "median",
    "min",
    "max",
    "added",
    "exit after turn",
    "cancelled",
    "kept",
  ],
  rows,
);
await Deno.writeTextFile(
  outPath,
  JSON.stringify(
    {
      benchmark: "claude_cli",
      claude_code: CLAUDE_CODE_VERSION,
      rounds,
      measured_at: new Date().toISOString(),
      machine: await machineInfo(),
      cases,
    },
    null,
    2,
  ) + "\n",
);
console.log(`\nwrote ${outPath}`);
