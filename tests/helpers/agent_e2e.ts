/**
 * The end-to-end checks every agent's real CLI goes through with hookwatch's installed hooks
 * (one test file per agent registers them, so the agents run in parallel): one turn's events
 * each stored once under the common names with `agent` and `agent_event`, exactly as often as
 * the CLI fired them (the user's own capture hooks say what fired), the tool call paired, the
 * `?agent=` filters, uninstall giving back the user's files byte for byte; hookwatch down for
 * a run, then back, losing nothing; and, for the agents that take one, a decision made in
 * hookwatch reaching the CLI.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startServer, type TestServer } from "./server.ts";
import { openSse } from "./sse.ts";
import { readCaptures } from "./agent_clis.ts";
import {
  AGENT_CASES,
  type AgentCase,
  type Api,
  type CliAgent,
  installer,
  programOf,
  removeSandbox,
  type Sandbox,
  sandbox,
  sendersDone,
  type TurnOptions,
} from "./agent_runs.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** How long delivery may take after the CLI exits (the sender delivers afterwards). */
const DELIVERY_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function getJson(url: string): Promise<Json> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${await res.clone().text()}`);
  return await res.json();
}

/**
 * The session's stored hook events, oldest first by their time (the agent's own where it gives
 * one: Copilot runs sessionStart's hooks alongside the next event's, so delivery can swap
 * them), then by id.
 */
export async function storedOf(
  server: TestServer,
  sessionId: string,
): Promise<Json[]> {
  const events: Json[] = await getJson(
    `${server.url}/events/recent?session_id=${
      encodeURIComponent(sessionId)
    }&limit=1000`,
  );
  return events.filter((e) => e.hook_event_type !== "PermissionDecision")
    .sort((a, b) => a.timestamp - b.timestamp || a.id - b.id);
}

/**
 * What is wrong with a session's stored events: one per hook the CLI fired (captured), each
 * under its common name with the agent's own beside it, in the agent's order. The captures'
 * own order is not the agent's: Copilot runs sessionStart's hooks alongside the next event's,
 * so two capture hooks can finish either way round.
 */
export function eventProblems(
  c: AgentCase,
  stored: Json[],
  fired: string[],
): string[] {
  const problems: string[] = [];
  const natives = stored.map((e) => e.agent_event ?? e.hook_event_type);
  if (
    JSON.stringify([...natives].sort()) !== JSON.stringify([...fired].sort())
  ) {
    problems.push(
      `stored ${JSON.stringify(natives)}, the CLI fired ${
        JSON.stringify(fired)
      }`,
    );
  }
  const order = natives.filter((n) => c.native.includes(n));
  const want = c.native.filter((n) => order.includes(n));
  if (JSON.stringify(order) !== JSON.stringify(want)) {
    problems.push(`stored in the order ${JSON.stringify(order)}`);
  }
  for (const e of stored) {
    if (e.agent !== c.agent) {
      problems.push(`${e.hook_event_type}: agent ${e.agent}`);
    }
    const at = c.native.indexOf(e.agent_event ?? e.hook_event_type);
    if (at >= 0 && c.turn[at] !== e.hook_event_type) {
      problems.push(
        `${e.agent_event} stored as ${e.hook_event_type}, want ${c.turn[at]}`,
      );
    }
  }
  return problems;
}

/** Polls `problems` until it finds nothing (then once more after a pause), or the bound. */
export async function settle(
  problems: () => Promise<string[]>,
  boundMs = DELIVERY_MS,
): Promise<string[]> {
  const until = performance.now() + boundMs;
  while (true) {
    const found = await problems();
    if (found.length === 0) break;
    if (performance.now() > until) return found;
    await sleep(250);
  }
  await sleep(750);
  return await problems();
}

/** A failure message with the run, the sender's log and the server's output. */
async function explain(
  what: string,
  problems: string[],
  sb: Sandbox,
  run: { code: number; stderr: string; wallMs: number },
  server: TestServer | null,
): Promise<string> {
  const log = await Deno.readTextFile(`${sb.spool}/sender.log`).catch(() => "");
  return [
    `${what}:\n  ${problems.join("\n  ")}`,
    `exit ${run.code} after ${Math.round(run.wallMs)} ms; stderr: ${
      run.stderr.slice(-1500)
    }`,
    `sender.log: ${log.slice(-2000) || "(empty)"}`,
    server ? `hookwatch (tail): ${server.output().slice(-1500)}` : "",
  ].join("\n\n");
}

/** The hook names the CLI fired for `session`, in order, from the user's capture hooks. */
async function fired(c: AgentCase, sb: Sandbox): Promise<string[]> {
  return (await readCaptures(sb.captures)).map((h) => h.event)
    .filter((e) => c.native.includes(e));
}

/** Everything one test needs of an agent, or null when its CLI is skipped. */
export interface Ready {
  c: AgentCase;
  program: string;
}

/** The agent's case and program; null (skipped, see `agentOrSkip`) when its CLI is missing. */
export async function ready(
  cli: CliAgent,
  test: string,
): Promise<Ready | null> {
  const c = AGENT_CASES[cli];
  const program = await programOf(c, test);
  return program ? { c, program } : null;
}

/** Runs one turn; asserts the CLI finished well. */
async function turn(
  r: Ready,
  sb: Sandbox,
  api: Api,
  options: Partial<TurnOptions> = {},
) {
  const run = await r.c.run(sb, { program: r.program, api, ...options });
  assert.ok(
    run.code === 0 && !run.timedOut && run.sessionId,
    `${r.c.cli} exited ${run.code}${run.timedOut ? " (timed out)" : ""}: ${
      run.stderr.slice(-2000)
    }\nscript errors: ${api.errors.join("; ")}`,
  );
  return run as typeof run & { sessionId: string };
}

/**
 * Installed over the user's own hooks: one turn stored once per fired hook with the right agent
 * and names, its call paired, the filters, the stream; uninstall gives the files back.
 */
export async function installedTurn(r: Ready): Promise<void> {
  const { c } = r;
  const server = await startServer();
  const api = await c.startApi();
  const sb = await sandbox();
  try {
    const files = await c.userFiles(sb);
    const before = await Promise.all(files.map((f) => Deno.readFile(f)));
    const said = await installer(c, sb, "install", [
      "--server-url",
      server.url,
    ]);
    assert.match(said, /installed hookwatch hooks/);
    const stream = await openSse(`${server.url}/stream?agent=${c.agent}`);
    await stream.until((f) => f.some((x) => x.event === "snapshot"));
    // The agent's own telemetry to hookwatch too: its tokens joined to the session.
    const run = await turn(r, sb, api, c.telemetry(server.url));
    assert.ok(
      await Deno.stat(`${sb.project}/probe.txt`).then(() => true, () => false),
      "the command ran",
    );
    const hooks = await fired(c, sb);
    assert.deepEqual([...hooks].sort(), [...c.native].sort(), "one of each");
    const problems = await settle(async () =>
      eventProblems(c, await storedOf(server, run.sessionId), hooks)
    );
    assert.deepEqual(
      problems,
      [],
      await explain("stored events", problems, sb, run, server),
    );
    const stored = await storedOf(server, run.sessionId);
    // The stream filtered on the agent carried this session's events, nothing else.
    const frames = await stream.until(
      (f) => f.filter((x) => x.event === "event").length >= stored.length,
    );
    await stream.close();
    assert.deepEqual(
      frames.filter((f) => f.event === "event").map((f) =>
        JSON.parse(f.data).id
      ),
      stored.map((e) => e.id).sort((a, b) => a - b),
    );
    const { tools } = await getJson(
      `${server.url}/sessions/${run.sessionId}/tools`,
    );
    assert.equal(tools.length, 1, JSON.stringify(tools));
    assert.equal(tools[0].tool_name, "Bash");
    assert.equal(tools[0].outcome, "ok");
    assert.equal(
      tools[0].input_summary,
      "echo hookwatch-probe | tee probe.txt",
    );
    assert.ok(
      tools[0].tool_ms >= 0 && tools[0].ended_at >= tools[0].started_at,
    );
    const mine = await getJson(`${server.url}/events/recent?agent=${c.agent}`);
    assert.deepEqual(
      mine.map((e: Json) => e.id).sort(),
      stored.map((e) => e.id).sort(),
    );
    assert.deepEqual(
      await getJson(`${server.url}/events/recent?agent=claude-code`),
      [],
    );
    const detail = await getJson(`${server.url}/sessions/${run.sessionId}`);
    assert.equal(detail.agent, c.agent);
    assert.equal(detail.state, "ended");
    const list = await getJson(`${server.url}/sessions?agent=${c.agent}`);
    assert.deepEqual(list.sessions.map((s: Json) => s.session_id), [
      run.sessionId,
    ]);
    const others = await getJson(`${server.url}/sessions?agent=claude-code`);
    assert.deepEqual(others.sessions, []);
    const used = api.usage();
    const want = {
      requests: used.requests,
      tokens: {
        input: used.input - used.cached,
        output: used.output,
        cache_read: used.cached,
        cache_creation: 0,
      },
    };
    let got: Json = null;
    const tokens = await settle(async () => {
      const s = await getJson(`${server.url}/sessions/${run.sessionId}`);
      got = { requests: s.requests, tokens: s.tokens };
      return JSON.stringify(got) === JSON.stringify(want) ? [] : [
        `session ${JSON.stringify(got)}, the model API served ${
          JSON.stringify(want)
        }`,
      ];
    });
    assert.deepEqual(tokens, [], "tokens from the agent's telemetry");

    await sendersDone(sb);
    await installer(c, sb, "uninstall");
    const after = await Promise.all(files.map((f) => Deno.readFile(f)));
    assert.deepEqual(
      after,
      before,
      "the user's files as they were, byte for byte",
    );
    const ours = c.hookFile(sb.home);
    if (!files.includes(ours)) {
      assert.equal(
        await Deno.stat(ours).then(() => true, () => false),
        false,
        `${ours}: install created it, uninstall removes it`,
      );
    }
  } finally {
    await api.close();
    await server.stop();
    await removeSandbox(sb);
  }
}

/**
 * hookwatch down (nothing listens) for a whole run, then back for the next: both runs' events
 * stored exactly once, and the run without hookwatch no slower than the other by more than a
 * second or half of it.
 */
export async function downThenBack(r: Ready): Promise<void> {
  const { c } = r;
  const first = await startServer();
  const { port, dbPath, url } = first;
  await first.stop();
  const api = await c.startApi();
  const sb = await sandbox();
  let server: TestServer | null = null;
  const clearCaptures = async () => {
    const names = await Array.fromAsync(
      Deno.readDir(sb.captures),
      (f) => f.name,
    )
      .catch(() => []);
    for (const name of names) await Deno.remove(`${sb.captures}/${name}`);
  };
  try {
    await c.userFiles(sb);
    // A CLI's first run in a fresh HOME sets itself up (Codex's took 1.7 s longer on a loaded
    // CI machine): one turn before the hooks go in, so the timed runs differ by hookwatch only.
    await turn(r, sb, api);
    await clearCaptures();
    await installer(c, sb, "install", ["--server-url", url]);
    const down = await turn(r, sb, api);
    const downFired = await fired(c, sb);
    await sendersDone(sb);
    await clearCaptures();
    server = await startServer({ port, dbPath });
    const up = await turn(r, sb, api);
    const upFired = await fired(c, sb);
    const live = server;
    const problems = await settle(async () => [
      ...eventProblems(c, await storedOf(live, down.sessionId), downFired)
        .map((p) => `down run: ${p}`),
      ...eventProblems(c, await storedOf(live, up.sessionId), upFired)
        .map((p) => `up run: ${p}`),
    ]);
    assert.deepEqual(
      problems,
      [],
      await explain("hookwatch down, then back", problems, sb, down, live),
    );
    // One run each, of CLIs whose single runs spread by a second (BENCHMARKS.md): the bound
    // catches a hook that waits on the dead server; bench/agents_cli_bench.ts measures the cost.
    assert.ok(
      down.wallMs < up.wallMs + Math.max(1000, up.wallMs / 2),
      `the run without hookwatch took ${Math.round(down.wallMs)} ms, with it ${
        Math.round(up.wallMs)
      } ms`,
    );
  } finally {
    await api.close();
    await server?.stop();
    await removeSandbox(sb);
  }
}

/**
 * `--decisions` and `HOOKWATCH_DECISIONS=on`: the CLI's permission request held as a
 * `permission` inbox item; `act` answers it through `POST /inbox/:id/decision`. Returns
 * whether the command ran, what the model was told last and the call's outcome.
 */
export async function decision(
  r: Ready,
  behavior: "allow" | "deny",
  message: string,
  options: Partial<TurnOptions> = {},
): Promise<
  { ran: boolean; told: string; outcome: string; item: Json; decisions: Json[] }
> {
  const { c } = r;
  const server = await startServer({ env: { HOOKWATCH_DECISIONS: "on" } });
  const api = await c.startApi({ escalated: true });
  const sb = await sandbox();
  try {
    await installer(c, sb, "install", [
      "--server-url",
      server.url,
      "--decisions",
      "--decision-wait",
      "30",
    ]);
    const acting = (async () => {
      const deadline = Date.now() + 60_000;
      let seen = 0;
      while (Date.now() < deadline) {
        const { items } = await getJson(`${server.url}/inbox?kind=permission`);
        // A person answers once the item names its call (the PreToolUse folded; within
        // milliseconds a denial could not name the call it ends), or after 5 s anyway.
        const waiting = items.find((i: Json) => i.awaiting_decision);
        if (waiting && !seen) seen = Date.now();
        const held = waiting &&
            (waiting.tool_use_id !== null || Date.now() - seen > 5_000)
          ? waiting
          : undefined;
        if (held) {
          const res = await fetch(`${server.url}/inbox/${held.id}/decision`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ behavior, message }),
          });
          assert.equal(res.status, 200, await res.text());
          return held;
        }
        await sleep(50);
      }
      const log = await Deno.readTextFile(`${sb.spool}/sender.log`).catch(() =>
        ""
      );
      throw new Error(
        `no held permission request; inbox ${
          JSON.stringify(
            (await getJson(`${server.url}/inbox?status=all`)).items,
          )
        }; events ${
          JSON.stringify(
            (await getJson(`${server.url}/events/recent?limit=50`)).map((
              e: Json,
            ) => [e.hook_event_type, e.timestamp]),
          )
        }; sender.log ${log.slice(-1500)}; hookwatch ${
          server.output().slice(-1500)
        }`,
      );
    })();
    const run = await turn(r, sb, api, options);
    const item = await acting;
    const ran = await Deno.stat(`${sb.project}/probe.txt`).then(
      () => true,
      () => false,
    );
    let outcome = "";
    const problems = await settle(async () => {
      const { tools } = await getJson(
        `${server.url}/sessions/${run.sessionId}/tools`,
      );
      outcome = tools.map((t: Json) => t.outcome).join(",");
      const want = behavior === "allow" ? "ok" : "denied";
      return outcome === want ? [] : [`tool outcomes ${outcome}, want ${want}`];
    });
    assert.deepEqual(
      problems,
      [],
      await explain("decision", problems, sb, run, server),
    );
    const decisions = await getJson(
      `${server.url}/events/recent?hook_event_type=PermissionDecision`,
    );
    return { ran, told: api.lastBody(), outcome, item, decisions };
  } finally {
    await api.close();
    await server.stop();
    await removeSandbox(sb);
  }
}
