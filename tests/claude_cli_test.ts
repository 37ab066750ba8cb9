/**
 * The real Claude Code CLI (pinned, see `helpers/claude_cli.ts`) in print mode against a scripted
 * Messages API (`helpers/fake_anthropic.ts`) and a real hookwatch: native `http` hooks, the
 * installed command hooks, a subagent, Claude Code's own telemetry joined by session, and
 * hookwatch down during a run. Outside traffic is off and HOME is thrown away.
 *
 * Without the CLI (no npm registry) these tests are ignored, unless HOOKWATCH_REQUIRE_CLAUDE=1
 * (CI), where they fail.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startServer, type TestServer } from "./helpers/server.ts";
import {
  type FakeAnthropic,
  startFakeAnthropic,
} from "./helpers/fake_anthropic.ts";
import {
  cancelledHooks,
  CLAUDE_CODE_VERSION,
  hookDebugLines,
  installClaude,
  installHooks,
  runClaude,
  type RunResult,
} from "./helpers/claude_cli.ts";

const REQUIRE = Deno.env.get("HOOKWATCH_REQUIRE_CLAUDE") === "1";
const claude = await installClaude();
if (claude.error && !REQUIRE) {
  console.warn(
    `claude_cli_test: Claude Code ${CLAUDE_CODE_VERSION} is not available, tests ignored (HOOKWATCH_REQUIRE_CLAUDE=1 makes them fail): ${claude.error}`,
  );
}
const ignore = claude.error !== undefined && !REQUIRE;

function binary(): string {
  if (!claude.path) {
    throw new Error(
      `HOOKWATCH_REQUIRE_CLAUDE=1 but Claude Code ${CLAUDE_CODE_VERSION} cannot be had: ${claude.error}`,
    );
  }
  return claude.path;
}

const PROMPT =
  "Write hello to out.txt, read it back, then have a subagent check it.";
/** Runs of the installed-hooks test: enough to catch a loss that happens most of the time. */
const RUNS = Number(Deno.env.get("HOOKWATCH_CLAUDE_RUNS") ?? 5);
/** How many of those run at once. */
const PARALLEL = Number(Deno.env.get("HOOKWATCH_CLAUDE_PARALLEL") ?? 5);
/** How long delivery may take after the CLI exits (async senders deliver afterwards). */
const DELIVERY_MS = 15_000;
const FIXTURES = fileURLToPath(
  new URL(`./fixtures/claude-${CLAUDE_CODE_VERSION}/`, import.meta.url),
);

/**
 * What the scripted session fires once per run, by hook type: the main agent's Bash, Read and
 * Agent calls and the subagent's Bash call are the four tool uses.
 */
const CORE_COUNTS: Record<string, number> = {
  SessionStart: 1,
  UserPromptSubmit: 1,
  PreToolUse: 4,
  PostToolUse: 4,
  SubagentStart: 1,
  SubagentStop: 1,
  Stop: 1,
  SessionEnd: 1,
};
/** The core types the session never fires. */
const CORE_ABSENT = [
  "PostToolUseFailure",
  "PermissionRequest",
  "Notification",
  "PreCompact",
];

/** Every hook event type 2.1.328 knows (read from its settings schema). */
const ALL_HOOK_TYPES = [
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
  "PostToolBatch",
  "Notification",
  "UserPromptSubmit",
  "UserPromptExpansion",
  "SessionStart",
  "SessionEnd",
  "Stop",
  "StopFailure",
  "SubagentStart",
  "SubagentStop",
  "PreCompact",
  "PostCompact",
  "PreModelSwitch",
  "PostModelSwitch",
  "PermissionRequest",
  "PermissionDenied",
  "Setup",
  "TeammateIdle",
  "TaskCreated",
  "TaskCompleted",
  "Elicitation",
  "ElicitationResult",
  "ConfigChange",
  "WorktreeCreate",
  "WorktreeRemove",
  "InstructionsLoaded",
  "CwdChanged",
  "FileChanged",
  "DirectoryAdded",
  "MessageDisplay",
];
/** Only command hooks run for these. */
const COMMAND_ONLY = ["SessionStart", "Setup"];

// deno-lint-ignore no-explicit-any
type Event = any;

/** A throwaway project and HOME. */
interface Sandbox {
  root: string;
  project: string;
  home: string;
  spool: string;
}

async function sandbox(): Promise<Sandbox> {
  const root = await Deno.makeTempDir({ prefix: "hookwatch-claude-" });
  const sb = {
    root,
    project: `${root}/project`,
    home: `${root}/home`,
    spool: `${root}/home/.local/state/hookwatch`,
  };
  await Deno.mkdir(`${sb.project}/.claude`, { recursive: true });
  await Deno.mkdir(sb.home);
  return sb;
}

/** Removes the sandbox once no detached sender works in its spool any more (bounded). */
async function removeSandbox(sb: Sandbox): Promise<void> {
  const until = performance.now() + 10_000;
  while (performance.now() < until) {
    const busy = await Array.fromAsync(Deno.readDir(sb.spool), (e) => e.name)
      .then((names) => names.some((n) => n.startsWith("run-")))
      .catch(() => false);
    if (!busy) break;
    await sleep(100);
  }
  await Deno.remove(sb.root, { recursive: true }).catch(() => {});
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Telemetry to hookwatch, exported often so a short run's figures arrive. */
function telemetryEnv(
  serverUrl: string,
  protocol: "http/json" | "http/protobuf",
): Record<string, string> {
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: "1",
    OTEL_LOGS_EXPORTER: "otlp",
    OTEL_METRICS_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: serverUrl,
    OTEL_METRIC_EXPORT_INTERVAL: "1000",
    OTEL_LOGS_EXPORT_INTERVAL: "500",
  };
}

/** One CLI run and what it said about itself (`--output-format json`). */
interface Run {
  n: number;
  sb: Sandbox;
  result: RunResult;
  sessionId: string;
  costUsd: number;
  debugFile: string;
}

async function run(
  sb: Sandbox,
  api: FakeAnthropic,
  n: number,
  env: Record<string, string> = {},
): Promise<Run> {
  const debugFile = `${sb.root}/debug-${n}.txt`;
  const result = await runClaude({
    binary: binary(),
    prompt: PROMPT,
    cwd: sb.project,
    home: sb.home,
    apiUrl: api.url,
    env,
    debugFile,
    args: ["--output-format", "json"],
    timeoutMs: 90_000,
  });
  let out: { session_id?: string; total_cost_usd?: number; is_error?: boolean };
  try {
    out = JSON.parse(result.stdout);
  } catch {
    out = {};
  }
  assert.ok(
    result.code === 0 && out.session_id && !out.is_error &&
      api.errors.length === 0,
    `claude -p run ${n} failed (exit ${result.code}${
      result.timedOut ? ", timed out" : ""
    }):\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ${
      result.stderr.slice(0, 2000)
    }\nscript errors: ${api.errors.join("; ")}\n${await hookDebugLines(
      debugFile,
    )}`,
  );
  return {
    n,
    sb,
    result,
    sessionId: out.session_id!,
    costUsd: out.total_cost_usd ?? NaN,
    debugFile,
  };
}

/** The session's hook events as hookwatch stores them (telemetry records left out). */
async function hookEvents(
  server: TestServer,
  sessionId: string,
): Promise<Event[]> {
  const res = await fetch(
    `${server.url}/events/recent?session_id=${
      encodeURIComponent(sessionId)
    }&limit=1000`,
  );
  assert.equal(res.status, 200, await res.clone().text());
  const events: Event[] = await res.json();
  return events.filter((e) => typeof e.payload?.hook_event_name === "string");
}

function countByType(events: Event[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) {
    counts[e.hook_event_type] = (counts[e.hook_event_type] ?? 0) + 1;
  }
  return counts;
}

/** The tool_use ids the scripted API handed out in a session (main agent and subagent). */
function toolUseIds(api: FakeAnthropic, sessionId: string): string[] {
  return api.requests
    .filter((r) => r.headers["x-claude-code-session-id"] === sessionId)
    .flatMap((r) =>
      (r.reply?.content ?? []).flatMap((b) =>
        b.type === "tool_use" && b.id ? [b.id] : []
      )
    );
}

/**
 * What is wrong with a session's stored core events: each type of {@linkcode CORE_COUNTS}
 * exactly that often, one PreToolUse and one PostToolUse per tool use the API handed out, and
 * the subagent's events carrying its agent_id.
 */
function coreProblems(
  events: Event[],
  expectedToolIds: string[],
): string[] {
  const problems: string[] = [];
  const counts = countByType(events);
  for (const [type, want] of Object.entries(CORE_COUNTS)) {
    if ((counts[type] ?? 0) !== want) {
      problems.push(`${type}: stored ${counts[type] ?? 0}, want ${want}`);
    }
  }
  for (const type of CORE_ABSENT) {
    if (counts[type]) problems.push(`${type}: stored ${counts[type]}, want 0`);
  }
  for (const type of ["PreToolUse", "PostToolUse"]) {
    const ids = events.filter((e) => e.hook_event_type === type)
      .map((e) => e.payload.tool_use_id).sort();
    const want = [...expectedToolIds].sort();
    if (JSON.stringify(ids) !== JSON.stringify(want)) {
      problems.push(
        `${type} tool_use_ids ${JSON.stringify(ids)}, want each of ${
          JSON.stringify(want)
        } once`,
      );
    }
  }
  const start = events.find((e) => e.hook_event_type === "SubagentStart");
  if (start) {
    const agent = start.payload.agent_id;
    if (!agent || start.agent_id !== agent) {
      problems.push(
        `SubagentStart agent_id ${start.agent_id}, payload ${agent}`,
      );
    }
    const inSubagent = events.filter((e) =>
      e.hook_event_type === "SubagentStop" ||
      e.payload.tool_input?.command === "cat out.txt"
    );
    for (const e of inSubagent) {
      if (e.agent_id !== agent) {
        problems.push(
          `${e.hook_event_type} in the subagent has agent_id ${e.agent_id}, want ${agent}`,
        );
      }
    }
    const main = events.filter((e) =>
      ["UserPromptSubmit", "Stop", "SessionStart", "SessionEnd"].includes(
        e.hook_event_type,
      )
    );
    for (const e of main) {
      if (e.agent_id !== null && e.agent_id !== undefined) {
        problems.push(
          `${e.hook_event_type} of the main agent has agent_id ${e.agent_id}`,
        );
      }
    }
  }
  return problems;
}

/**
 * Polls until `problems` finds nothing for every run (then once more after a pause, so a late
 * duplicate is seen too), or the bound passes; returns what is still wrong, by run.
 */
async function settle(
  runs: Run[],
  problems: (run: Run) => Promise<string[]>,
  boundMs = DELIVERY_MS,
): Promise<Map<Run, string[]>> {
  const until = performance.now() + boundMs;
  let found = new Map<Run, string[]>();
  while (true) {
    found = new Map();
    for (const r of runs) {
      const p = await problems(r);
      if (p.length > 0) found.set(r, p);
    }
    if (found.size === 0 || performance.now() > until) break;
    await sleep(250);
  }
  if (found.size === 0) {
    await sleep(750);
    for (const r of runs) {
      const p = await problems(r);
      if (p.length > 0) found.set(r, p);
    }
  }
  return found;
}

/** The files under the hook's spool directory, with their sizes. */
async function spoolFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) {
        out.push(...await spoolFiles(path, `${prefix}${e.name}/`));
      } else {
        const size = await Deno.stat(path).then((s) => s.size, () => -1);
        out.push(`${prefix}${e.name} (${size} bytes)`);
      }
    }
  } catch { /* no spool */ }
  return out;
}

/** A failure message that explains itself: what is wrong, the CLI's hook lines, the logs. */
async function report(
  title: string,
  found: Map<Run, string[]>,
  server: TestServer,
): Promise<string> {
  const parts = [title];
  for (const [r, problems] of found) {
    const cancelled = await cancelledHooks(r.debugFile);
    parts.push(
      `run ${r.n} (session ${r.sessionId}, ${
        Math.round(r.result.wallMs)
      } ms; the CLI cancelled ${
        cancelled.length ? cancelled.join(", ") : "no hook"
      }):\n  ${problems.join("\n  ")}`,
    );
  }
  const first = [...found.keys()][0];
  if (first) {
    parts.push(
      `hook lines of run ${first.n}'s --debug-file:\n${await hookDebugLines(
        first.debugFile,
      )}`,
    );
  }
  for (const sb of new Set([...found.keys()].map((r) => r.sb))) {
    const senderLog = await Deno.readTextFile(`${sb.spool}/sender.log`)
      .catch(() => "");
    if (senderLog) parts.push(`sender.log:\n${senderLog.slice(-3000)}`);
    const left = await spoolFiles(sb.spool);
    parts.push(
      `left in the spool (${sb.spool}): ${
        left.length ? `\n  ${left.join("\n  ")}` : "nothing"
      }`,
    );
  }
  parts.push(`hookwatch output (tail):\n${server.output().slice(-2000)}`);
  return parts.join("\n\n");
}

Deno.test({
  name:
    "claude cli - native http hooks: every hook event stored, subagent events carry agent_id, cost joined from telemetry",
  ignore,
  async fn() {
    const server = await startServer();
    const api = await startFakeAnthropic();
    const sb = await sandbox();
    try {
      const url = `${server.url}/hooks/claude-http`;
      const hooks: Record<string, unknown> = {};
      for (const type of ALL_HOOK_TYPES) {
        const handler = COMMAND_ONLY.includes(type)
          ? {
            type: "command",
            command:
              `curl -sS -m 2 -o /dev/null -H 'content-type: application/json' --data-binary @- ${url}`,
          }
          : { type: "http", url, timeout: 2 };
        hooks[type] = [{ hooks: [handler] }];
      }
      await Deno.writeTextFile(
        `${sb.project}/.claude/settings.json`,
        JSON.stringify({ hooks }, null, 2),
      );
      // Loaded instructions fire InstructionsLoaded.
      await Deno.writeTextFile(`${sb.project}/CLAUDE.md`, "Be brief.\n");

      const r = await run(
        sb,
        api,
        1,
        telemetryEnv(server.url, "http/json"),
      );
      const debug = await Deno.readTextFile(r.debugFile);
      // Every hook the CLI ran: an HTTP POST, or the curl command hooks.
      const fired = (debug.match(/Hooks: HTTP hook POST to /g) ?? []).length +
        (debug.match(/Hooks: (SessionStart|Setup)\S* \[curl .*finished/g) ??
          []).length;
      const want: Record<string, number> = {
        ...CORE_COUNTS,
        PostToolBatch: 4,
        MessageDisplay: 2,
        InstructionsLoaded: 1,
      };
      const ids = toolUseIds(api, r.sessionId);
      const found = await settle([r], async () => {
        const events = await hookEvents(server, r.sessionId);
        const problems = coreProblems(events, ids);
        const counts = countByType(events);
        for (const [type, n] of Object.entries(want)) {
          if (!(type in CORE_COUNTS) && (counts[type] ?? 0) !== n) {
            problems.push(`${type}: stored ${counts[type] ?? 0}, want ${n}`);
          }
        }
        if (events.length !== fired) {
          problems.push(
            `${events.length} hook events stored, the CLI ran ${fired} hooks`,
          );
        }
        const batches = events.filter((e) =>
          e.hook_event_type === "PostToolBatch"
        );
        const agent = events.find((e) => e.hook_event_type === "SubagentStart")
          ?.agent_id;
        if (batches.filter((e) => e.agent_id === agent).length !== 1) {
          problems.push(
            "the subagent's PostToolBatch does not carry its agent_id",
          );
        }
        const detail = await (await fetch(
          `${server.url}/sessions/${encodeURIComponent(r.sessionId)}`,
        )).json();
        const requests = api.requests.filter((q) =>
          q.headers["x-claude-code-session-id"] === r.sessionId
        ).length;
        if (Math.abs((detail.cost_usd ?? 0) - r.costUsd) > 1e-6) {
          problems.push(
            `session cost ${detail.cost_usd}, the CLI reported ${r.costUsd}`,
          );
        }
        if (detail.requests !== requests) {
          problems.push(
            `session requests ${detail.requests}, the API served ${requests}`,
          );
        }
        if (detail.source_app !== "claude-http") {
          problems.push(`session source_app ${detail.source_app}`);
        }
        return problems;
      });
      assert.ok(
        found.size === 0,
        await report("native http hooks:", found, server),
      );
    } finally {
      await api.close();
      await server.stop();
      await removeSandbox(sb);
    }
  },
});

Deno.test({
  name:
    `claude cli - installed command hooks: every core event of ${RUNS} runs stored exactly once, Stop, SubagentStop and SessionEnd included`,
  ignore,
  async fn() {
    const server = await startServer();
    const api = await startFakeAnthropic();
    const sandboxes: Sandbox[] = [];
    try {
      // The runs go at once, each in its own project and HOME: as fast as one on two cores,
      // and a busy machine is where a hook gets cancelled before it is done.
      for (let n = 1; n <= RUNS; n++) sandboxes.push(await sandbox());
      await Promise.all(
        sandboxes.map((sb) =>
          installHooks({
            project: sb.project,
            serverUrl: server.url,
            home: sb.home,
          })
        ),
      );
      // At most PARALLEL at once (a longer stress would time out all at once on two cores).
      const runs: Awaited<ReturnType<typeof run>>[] = [];
      for (let from = 0; from < sandboxes.length; from += PARALLEL) {
        runs.push(
          ...await Promise.all(
            sandboxes.slice(from, from + PARALLEL).map((sb, j) =>
              // Telemetry over protobuf in one run: the other protocol than the http test's.
              run(
                sb,
                api,
                from + j + 1,
                from + j === 0 ? telemetryEnv(server.url, "http/protobuf") : {},
              )
            ),
          ),
        );
      }
      const found = await settle(runs, async (r) => {
        const problems = coreProblems(
          await hookEvents(server, r.sessionId),
          toolUseIds(api, r.sessionId),
        );
        if (r.n === 1) {
          const detail = await (await fetch(
            `${server.url}/sessions/${encodeURIComponent(r.sessionId)}`,
          )).json();
          if (Math.abs((detail.cost_usd ?? 0) - r.costUsd) > 1e-6) {
            problems.push(
              `session cost ${detail.cost_usd}, the CLI reported ${r.costUsd}`,
            );
          }
        }
        return problems;
      });
      assert.ok(
        found.size === 0,
        await report(
          `installed command hooks: ${found.size} of ${RUNS} runs lost or duplicated events`,
          found,
          server,
        ),
      );
    } finally {
      await api.close();
      await server.stop();
      await Promise.all(sandboxes.map(removeSandbox));
    }
  },
});

Deno.test({
  name:
    "claude cli - hookwatch down during a run, then back: the down run's events, Stop and SessionEnd included, stored exactly once",
  ignore,
  async fn() {
    // A port nothing listens on: hookwatch's own, right after it stopped.
    const first = await startServer();
    const { port, dbPath, url } = first;
    await first.stop();
    const api = await startFakeAnthropic();
    const sb = await sandbox();
    let server: TestServer | null = null;
    try {
      await installHooks({
        project: sb.project,
        serverUrl: url,
        home: sb.home,
      });
      const down = await run(sb, api, 1);
      server = await startServer({ port, dbPath });
      const up = await run(sb, api, 2);
      const live = server;
      const found = await settle([down, up], async (r) =>
        coreProblems(
          await hookEvents(live, r.sessionId),
          toolUseIds(api, r.sessionId),
        ));
      assert.ok(
        found.size === 0,
        await report("hookwatch down, then back:", found, live),
      );
    } finally {
      await api.close();
      await server?.stop();
      await removeSandbox(sb);
    }
  },
});

Deno.test("claude cli - every hook input Claude Code 2.1.328 sent is accepted by POST /hooks/:source_app and stored with its type and agent", async () => {
  const server = await startServer();
  try {
    const names = await Array.fromAsync(
      Deno.readDir(FIXTURES),
      (e) => e.name,
    );
    const types = names.filter((n) => n.endsWith(".json")).map((n) =>
      n.slice(0, -5)
    ).sort();
    assert.ok(types.length >= 12, `only ${types.length} fixtures`);
    for (const type of types) {
      const input = JSON.parse(
        await Deno.readTextFile(`${FIXTURES}${type}.json`),
      );
      assert.equal(input.hook_event_name, type);
      const res = await fetch(`${server.url}/hooks/fixtures`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(input),
      });
      assert.equal(res.status, 204, `${type}: ${await res.text()}`);
    }
    const stored: Event[] = await (await fetch(
      `${server.url}/events/recent?source_app=fixtures&limit=1000`,
    )).json();
    assert.deepEqual(
      stored.map((e) => e.hook_event_type).sort(),
      types,
    );
    for (const e of stored) {
      assert.equal(
        e.agent_id ?? null,
        e.payload.agent_id ?? null,
        e.hook_event_type,
      );
    }
  } finally {
    await server.stop();
  }
});
