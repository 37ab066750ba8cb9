/**
 * The hooks the installer writes for Codex, Gemini CLI and Copilot CLI, run as those agents run
 * them (`sh -c` the command, the agent's real recorded input on stdin) against a real hookwatch:
 * each exits 0 with nothing on stdout (Copilot denies the tool on anything else), whatever
 * becomes of hookwatch, and its event is stored once under the common name with `agent` and
 * `agent_event`. The waiting mode (`--decide`) prints the agent's own answer when a person
 * decided, and nothing otherwise. The real CLIs run the same commands in
 * `agents_cli_*_test.ts`.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startServer } from "./helpers/server.ts";
import {
  deadUrl,
  hangingServer,
  idle,
  runHook,
  spoolLines,
  stored,
  waitFor,
} from "./helpers/hook_run.ts";
import { AGENT_TARGETS, agentHandlers } from "../hooks/agent_install.ts";
import type { AgentName } from "../common/adapters/names.ts";
import { answerOf } from "../hooks/decide.ts";
import { AGENT_CASES } from "./helpers/agent_runs.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/agents/", import.meta.url));
const fixture = async (path: string): Promise<Record<string, unknown>> =>
  JSON.parse(await Deno.readTextFile(`${FIXTURES}${path}`));
/** Generous: the hook runs sh and cat only, but CI machines are busy. */
const HOOK_BOUND_MS = 1000;

/** Each agent's recorded turn: its fixture directory, the events in the order they fired. */
const TURNS: [AgentName, string, readonly string[]][] = Object.values(
  AGENT_CASES,
).map((c) => [c.agent, c.cli, c.native]);

/** The command hookwatch installs for `agent`'s `event`. */
function commandOf(
  agent: AgentName,
  event: string,
  serverUrl: string,
  decideWaitS?: number,
): string {
  const handler = agentHandlers(AGENT_TARGETS[agent]!, {
    action: "install",
    target: { global: true },
    dryRun: true,
    command: { deno: Deno.execPath(), serverUrl, sourceApp: `hooks-${agent}` },
    decideWaitS,
  })[event];
  assert.ok(handler, `${agent} has a hook for ${event}`);
  return String(handler.command ?? handler.bash);
}

Deno.test("agent hooks - each agent's installed commands on its real inputs: exit 0, nothing on stdout, each stored once with its agent and names", async () => {
  const server = await startServer();
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-agent-hooks-" });
  const spool = `${tmp}/spool`;
  try {
    for (const [agent, dir, events] of TURNS) {
      for (const event of events) {
        const run = await runHook(
          commandOf(agent, event, server.url),
          await fixture(`${dir}/${event}.json`),
          { HOOKWATCH_SPOOL_DIR: spool },
        );
        assert.equal(run.code, 0, `${agent} ${event}`);
        assert.equal(run.stdout, "", `${agent} ${event}`);
        assert.ok(run.ms < HOOK_BOUND_MS, `${agent} ${event}: ${run.ms} ms`);
      }
    }
    for (const [agent, , events] of TURNS) {
      const got = await waitFor(`${agent}'s events`, async () => {
        const list = await stored(server, `hooks-${agent}`);
        return list.length >= events.length ? list : undefined;
      });
      await idle(spool);
      const again = await stored(server, `hooks-${agent}`);
      assert.equal(again.length, events.length, `${agent}: each stored once`);
      // deno-lint-ignore no-explicit-any
      const byOrder = got.sort((a: any, b: any) => a.timestamp - b.timestamp);
      assert.deepEqual(
        // deno-lint-ignore no-explicit-any
        byOrder.map((e: any) => e.agent_event ?? e.hook_event_type),
        events,
        agent,
      );
      assert.deepEqual(
        // deno-lint-ignore no-explicit-any
        byOrder.map((e: any) => e.hook_event_type),
        AGENT_CASES.codex.turn,
        agent,
      );
      // deno-lint-ignore no-explicit-any
      assert.ok(got.every((e: any) => e.agent === agent), agent);
    }
    // The agent's own time where it gives one (and it is near when the hook fired).
    const at = Date.now() - 5_000;
    await runHook(
      commandOf("copilot-cli", "notification", server.url),
      { ...await fixture("copilot/notification.json"), timestamp: at },
      { HOOKWATCH_SPOOL_DIR: spool },
    );
    const note = await waitFor(
      "the notification",
      async () =>
        (await stored(server, "hooks-copilot-cli")).find((
          // deno-lint-ignore no-explicit-any
          e: any,
        ) => e.hook_event_type === "Notification"),
    );
    assert.equal(note.timestamp, at);
    assert.equal(note.agent_event, "notification");
  } finally {
    await idle(spool).catch(() => {});
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("agent hooks - hookwatch down or hanging: Copilot's gating hooks still exit 0 with empty stdout at once; the events wait in the spool under their common names", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-agent-hooks-" });
  const hanging = hangingServer();
  const down = deadUrl();
  try {
    for (const [what, url] of [["down", down], ["hanging", hanging.url]]) {
      const spool = `${tmp}/${what}`;
      for (const event of ["preToolUse", "postToolUse"]) {
        const run = await runHook(
          commandOf("copilot-cli", event, url),
          await fixture(`copilot/${event}.json`),
          { HOOKWATCH_SPOOL_DIR: spool },
        );
        assert.equal(run.code, 0, `${what} ${event}`);
        assert.equal(run.stdout, "", `${what} ${event}`);
        assert.ok(run.ms < HOOK_BOUND_MS, `${what} ${event}: ${run.ms} ms`);
      }
      await idle(spool);
      // Two senders racing for a moment may both spool a file: one event_id, stored once.
      const spooled = [
        ...new Map(
          (await spoolLines(spool)).map((l) => JSON.parse(l)).map((e) => [
            e.event_id,
            e,
          ]),
        ).values(),
      ];
      assert.deepEqual(
        spooled.map((e) => [e.hook_event_type, e.agent_event, e.agent]).sort(),
        [
          ["PostToolUse", "postToolUse", "copilot-cli"],
          ["PreToolUse", "preToolUse", "copilot-cli"],
        ],
        what,
      );
    }
    // No HOME and no spool directory: nowhere to write, still exit 0 and silent.
    const homeless = await runHook(
      commandOf("copilot-cli", "preToolUse", down),
      await fixture("copilot/preToolUse.json"),
      { HOME: "", XDG_STATE_HOME: "", HOOKWATCH_SPOOL_DIR: "" },
    );
    assert.equal(homeless.code, 0);
    assert.equal(homeless.stdout, "");
  } finally {
    hanging.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("agent hooks - --decide prints the agent's own answer once a person decided, nothing when decisions are off or hookwatch is down (then spooled, stored once later)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-agent-hooks-" });
  const spool = `${tmp}/spool`;
  const env = { HOOKWATCH_SPOOL_DIR: spool };
  const dbPath = `${tmp}/hookwatch.db`;
  let server = await startServer({
    dbPath,
    env: { HOOKWATCH_DECISIONS: "on" },
  });
  try {
    const deny = async () => {
      const item = await waitFor("the held request", async () => {
        const { items } = await (await fetch(`${server.url}/inbox`)).json();
        // deno-lint-ignore no-explicit-any
        return items.find((i: any) => i.awaiting_decision);
      });
      const res = await fetch(`${server.url}/inbox/${item.id}/decision`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ behavior: "deny", message: "not here" }),
      });
      assert.equal(res.status, 200);
    };
    const [codex] = await Promise.all([
      runHook(
        commandOf("codex", "PermissionRequest", server.url, 20),
        await fixture("codex/PermissionRequest.json"),
        env,
      ),
      deny(),
    ]);
    assert.equal(codex.code, 0);
    assert.deepEqual(JSON.parse(codex.stdout), {
      hookSpecificOutput: {
        hookEventName: "PermissionRequest",
        decision: { behavior: "deny", message: "not here" },
      },
    });
    assert.ok(codex.stdout.endsWith("}\n") && !codex.stdout.includes("\n{"));
    const [copilot] = await Promise.all([
      runHook(
        commandOf("copilot-cli", "permissionRequest", server.url, 20),
        await fixture("copilot/permissionRequest.json"),
        env,
      ),
      deny(),
    ]);
    assert.equal(copilot.code, 0);
    assert.deepEqual(JSON.parse(copilot.stdout), {
      behavior: "deny",
      message: "not here",
    });
    const { port, url } = server;
    await server.stop();

    // Down: nothing printed (the agent decides as it would have), the request spooled.
    const down = await runHook(
      commandOf("copilot-cli", "permissionRequest", url, 20),
      { ...await fixture("copilot/permissionRequest.json"), n: "down" },
      env,
    );
    assert.equal(down.code, 0);
    assert.equal(down.stdout, "");
    const [spooled] = (await spoolLines(spool)).map((l) => JSON.parse(l));
    assert.equal(spooled.payload.n, "down");
    assert.equal(spooled.hook_event_type, "PermissionRequest");

    // Back with decisions off: stored, answered 204, nothing printed; the spool replays once.
    server = await startServer({ dbPath, port });
    const off = await runHook(
      commandOf("copilot-cli", "permissionRequest", url, 20),
      { ...await fixture("copilot/permissionRequest.json"), n: "off" },
      env,
    );
    assert.equal(off.code, 0);
    assert.equal(off.stdout, "");
    await runHook(
      commandOf("copilot-cli", "sessionEnd", url),
      await fixture("copilot/sessionEnd.json"),
      env,
    );
    const live = server;
    const all = await waitFor("the replayed request", async () => {
      const list = await stored(live, "hooks-copilot-cli");
      // deno-lint-ignore no-explicit-any
      return list.some((e: any) => e.payload.n === "down") ? list : undefined;
    });
    await idle(spool);
    // deno-lint-ignore no-explicit-any
    const requests = all.filter((e: any) =>
      e.hook_event_type === "PermissionRequest"
    );
    // deno-lint-ignore no-explicit-any
    assert.deepEqual(requests.map((e: any) => String(e.payload.n)).sort(), [
      "down",
      "off",
      "undefined",
    ]);
    assert.equal(
      // deno-lint-ignore no-explicit-any
      all.filter((e: any) => e.event_id === spooled.event_id).length,
      1,
    );
  } finally {
    await idle(spool).catch(() => {});
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("agent hooks - --decide prints only a JSON object (Copilot denies on anything else)", () => {
  assert.equal(answerOf('{"behavior":"allow"}'), '{"behavior":"allow"}');
  assert.equal(answerOf('  {"a": 1}\n'), '{"a":1}');
  for (const body of ["", "204", "not json", "[1]", "null", '"x"', "5"]) {
    assert.equal(answerOf(body), "", body);
  }
});
