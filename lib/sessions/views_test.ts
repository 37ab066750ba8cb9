import assert from "node:assert/strict";
import { createHookwatch, type Hookwatch } from "../hookwatch.ts";
import { loadConfig } from "../base/config.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { PostgresStore } from "../store/postgres_store.ts";
import type { EventStore } from "../store/store.ts";
import type { NewEvent } from "../../common/events.ts";
import {
  postgresIgnored,
  sharedCluster,
} from "../../tests/helpers/postgres.ts";
import { listSessions, sessionDetail, sessionSummary } from "./views.ts";

const NOW = Date.UTC(2026, 11, 1, 12);
const LIST = { limit: 10, sort: "last_seen", order: "desc" } as const;

function hook(
  session: string,
  type: string,
  at: number,
  payload: Record<string, unknown> = {},
): NewEvent {
  return {
    source_app: "shop-api",
    session_id: session,
    hook_event_type: type,
    payload: { session_id: session, hook_event_name: type, ...payload },
    timestamp: at,
  };
}

async function withHookwatch(
  open: () => Promise<EventStore>,
  run: (hw: Hookwatch) => Promise<void>,
): Promise<void> {
  const hw = createHookwatch(loadConfig({}), await open(), { sweep: false });
  await hw.feed.ready;
  await hw.agents.ready;
  try {
    await run(hw);
  } finally {
    await hw.close();
  }
}

async function stored(hw: Hookwatch, events: NewEvent[]): Promise<void> {
  const results = await hw.ingest(events);
  const last = Math.max(...results.map((r) => r.event.id));
  assert.ok(await hw.agents.settled(last), "folded in time");
}

const BACKENDS = [
  {
    name: "sqlite",
    ignore: false,
    open: async () => {
      const dir = await Deno.makeTempDir({ prefix: "hookwatch-views-" });
      return SqliteStore.open(`${dir}/hw.db`);
    },
  },
  {
    name: "postgres",
    ignore: postgresIgnored(),
    open: async () =>
      await PostgresStore.connect(
        await (await sharedCluster()).createDatabase(),
        { poolSize: 3 },
      ),
  },
];

for (const backend of BACKENDS) {
  Deno.test({
    name:
      `session views - one state per session, the agent sessions', in list, summary, detail and the state filter (${backend.name})`,
    ignore: backend.ignore,
    fn: () =>
      withHookwatch(backend.open, async (hw) => {
        await stored(hw, [
          hook("a", "SessionStart", NOW),
          hook("a", "UserPromptSubmit", NOW + 10, { prompt: "go" }),
          hook("a", "PermissionRequest", NOW + 20, {
            tool_name: "Bash",
            tool_input: { command: "ls" },
          }),
          hook("b", "SessionStart", NOW + 30),
          hook("b", "Stop", NOW + 40),
          hook("c", "SessionStart", NOW + 50),
          hook("c", "SessionEnd", NOW + 60),
          hook("d", "Notification", NOW + 70, {
            notification_type: "idle_prompt",
          }),
        ]);
        const states = Object.fromEntries(
          (await listSessions(hw, LIST)).map((s) => [s.session_id, s.state]),
        );
        assert.deepEqual(states, {
          a: "waiting",
          b: "stopped",
          c: "ended",
          d: "idle",
        });
        for (const id of ["a", "b", "c", "d"]) {
          const activity = await hw.agents.activity(id);
          const summary = await sessionSummary(hw, id);
          const detail = await sessionDetail(hw, id);
          assert.equal(summary?.state, activity?.state, id);
          assert.equal(summary?.state_at, activity?.state_at, id);
          assert.equal(detail?.state, activity?.state, id);
        }
        assert.equal((await sessionSummary(hw, "a"))?.state_at, NOW + 20);
        assert.deepEqual(
          (await listSessions(hw, { ...LIST, state: "waiting" })).map((s) =>
            s.session_id
          ),
          ["a"],
        );
        assert.deepEqual(
          await listSessions(hw, { ...LIST, state: "stale" }),
          [],
        );
        // A late (spooled) older event does not move the state back.
        await stored(hw, [hook("b", "PreToolUse", NOW + 35)]);
        assert.equal((await sessionSummary(hw, "b"))?.state, "stopped");
        assert.equal(await sessionSummary(hw, "nobody"), null);
      }),
  });

  Deno.test({
    name:
      `session views - a session known only from telemetry is working, under its events' app (${backend.name})`,
    ignore: backend.ignore,
    fn: () =>
      withHookwatch(backend.open, async (hw) => {
        await stored(hw, [{
          ...hook("t", "claude_code.api_request", NOW),
          source_app: "claude-code",
        }]);
        const [s] = await listSessions(hw, {
          ...LIST,
          source_app: "claude-code",
        });
        assert.equal(s.session_id, "t");
        assert.equal(s.state, "working");
        assert.equal(s.state_at, NOW);
        await stored(hw, [hook("t", "Stop", NOW + 10)]);
        const after = await sessionSummary(hw, "t");
        assert.equal(after?.source_app, "shop-api");
        assert.equal(after?.state, "stopped");
      }),
  });
}
