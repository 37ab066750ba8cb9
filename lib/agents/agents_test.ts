import assert from "node:assert/strict";
import { createHookwatch, type Hookwatch } from "../hookwatch.ts";
import { loadConfig } from "../base/config.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { PostgresStore } from "../store/postgres_store.ts";
import type { EventStore } from "../store/store.ts";
import type { NewEvent } from "../../common/events.ts";
import type { InboxItem } from "../../common/agents.ts";
import {
  postgresIgnored,
  sharedCluster,
} from "../../tests/helpers/postgres.ts";

const FIXTURES = new URL("../../tests/fixtures/hooks/", import.meta.url);

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, FIXTURES)));
}

/** A real Claude Code hook input as the http hook route stores it. */
function hook(
  name: string,
  timestamp: number,
  overrides: Record<string, unknown> = {},
): NewEvent {
  const payload = { ...fixture(name), ...overrides };
  return {
    source_app: "shop-api",
    session_id: String(payload.session_id),
    hook_event_type: name,
    payload,
    timestamp,
  };
}

interface Backend {
  name: string;
  ignore: boolean;
  /** A fresh database; `open` opens it (again), as a new replica or after a restart. */
  fresh(): Promise<{ open(): Promise<EventStore>; cleanup(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite",
    ignore: false,
    async fresh() {
      const dir = await Deno.makeTempDir();
      return {
        open: () => Promise.resolve(SqliteStore.open(`${dir}/hw.db`)),
        cleanup: () => Deno.remove(dir, { recursive: true }),
      };
    },
  },
  {
    name: "postgres",
    ignore: postgresIgnored(),
    async fresh() {
      const url = await (await sharedCluster()).createDatabase();
      return {
        open: () => PostgresStore.connect(url, { poolSize: 3 }),
        cleanup: () => Promise.resolve(),
      };
    },
  },
];

async function start(
  store: EventStore,
  env: Record<string, string> = {},
): Promise<Hookwatch> {
  const hw = createHookwatch(loadConfig(env), store, { sweep: false });
  await hw.feed.ready;
  await hw.agents.ready;
  const ingest = hw.ingest;
  // Read-your-writes: wait until the feed has delivered and folded what was stored.
  hw.ingest = async (events) => {
    const results = await ingest(events);
    const last = Math.max(...results.map((r) => r.event.id));
    assert.ok(await hw.agents.settled(last), "events folded in time");
    return results;
  };
  return hw;
}

const SESSION = "7d1f0c6a-3b52-4c8e-9a41-2f6e5d8b9c10";

for (const backend of BACKENDS) {
  Deno.test({
    name:
      `agents (${backend.name}) - events stored while the agent tables are being created are folded, not skipped as history`,
    ignore: backend.ignore,
    fn: async () => {
      const db = await backend.fresh();
      const t0 = Date.now() - 60_000;
      // Ingest at once, as a request arriving the moment a fresh replica listens: the
      // migration starts the fold after the events already stored, so these must wait for it.
      const hw = createHookwatch(loadConfig({}), await db.open(), {
        sweep: false,
      });
      try {
        const results = await hw.ingest([
          hook("PreToolUse", t0),
          hook("PermissionRequest", t0 + 5, {
            tool_input: fixture("PreToolUse").tool_input,
          }),
        ]);
        const permission = results[1].event;
        assert.ok(await hw.agents.settled(permission.id));
        const [item] = await hw.agents.itemsOfEvent(permission.id);
        assert.equal(item?.kind, "permission");
        assert.equal(item.tool_use_id, "toolu_01HqV7W9kLmN3pQrStUvWxYz");
        const [call] = await hw.agents.tools(SESSION, { limit: 10 });
        assert.equal(call.tool_use_id, item.tool_use_id);
        assert.equal(call.permission_at, t0 + 5);
      } finally {
        await hw.close();
        await db.cleanup();
      }
    },
  });

  Deno.test({
    name:
      `agents (${backend.name}) - real hook inputs pair into timed tool calls that survive a restart`,
    ignore: backend.ignore,
    fn: async () => {
      const db = await backend.fresh();
      const t0 = Date.now() - 60_000;
      let hw = await start(await db.open());
      try {
        await hw.ingest([
          hook("PreToolUse", t0),
          hook("PermissionRequest", t0 + 5, {
            tool_input: fixture("PreToolUse").tool_input,
          }),
          hook("PostToolUseFailure", t0 + 9000),
          hook("PreToolUse", t0 + 9100, {
            tool_name: "Edit",
            tool_input: fixture("PostToolUse").tool_input,
            tool_use_id: "toolu_01AbC2dEf3GhI4jKl5MnO6pQ",
          }),
          hook("PostToolUse", t0 + 9200),
        ]);
        await hw.close();
        hw = await start(await db.open());
        const tools = await hw.agents.tools(SESSION, { limit: 100 });
        assert.equal(tools.length, 2);
        const [bash, edit] = tools;
        assert.equal(bash.tool_use_id, "toolu_01HqV7W9kLmN3pQrStUvWxYz");
        assert.equal(bash.tool_name, "Bash");
        assert.equal(bash.outcome, "failed");
        assert.equal(bash.tool_ms, 5320);
        assert.equal(bash.wait_ms, 9000 - 5320 - 5);
        assert.equal(bash.input_summary, "npm test -- --runInBand orders");
        assert.match(bash.error ?? "", /2 failing tests/);
        assert.equal(bash.agent_id, null);
        assert.equal(edit.outcome, "ok");
        assert.equal(edit.tool_ms, 41);
        assert.equal(edit.wait_ms, 0);
        const failed = await hw.agents.tools(SESSION, {
          limit: 100,
          outcome: "failed",
        });
        assert.deepEqual(failed.map((t) => t.tool_name), ["Bash"]);
        const activity = await hw.agents.activity(SESSION);
        assert.equal(activity?.state, "working");
        assert.equal(
          activity?.state_at,
          t0 + 9000,
          "working again since the outcome",
        );
      } finally {
        await hw.close();
        await db.cleanup();
      }
    },
  });

  Deno.test({
    name:
      `agents (${backend.name}) - acks and snoozes persist; items resolve when the agent moves on`,
    ignore: backend.ignore,
    fn: async () => {
      const db = await backend.fresh();
      const t0 = Date.now() - 60_000;
      let hw = await start(await db.open());
      try {
        await hw.ingest([
          hook("PreToolUse", t0, {
            tool_input: { command: "rm -rf node_modules/.cache" },
          }),
          hook("PermissionRequest", t0 + 1),
          hook("Notification", t0 + 2, {
            session_id: "s-idle",
            notification_type: "idle_prompt",
            message: "Claude is waiting for your input",
          }),
          hook("Notification", t0 + 60_000, {
            session_id: "s-idle",
            notification_type: "idle_prompt",
          }),
        ]);
        const items = await hw.agents.inbox({ status: "active", limit: 50 });
        assert.deepEqual(items.map((i) => i.kind), ["idle", "permission"]);
        const permission = items[1];
        assert.equal(permission.tool_use_id, "toolu_01HqV7W9kLmN3pQrStUvWxYz");
        assert.equal(permission.reason, "Bash: rm -rf node_modules/.cache");
        assert.equal(permission.agent_id, null);
        assert.ok(permission.event_id! > 0);
        assert.equal(permission.tool_use_id, "toolu_01HqV7W9kLmN3pQrStUvWxYz");
        const raisedBy = await hw.agents.itemsOfEvent(permission.event_id!);
        assert.deepEqual(raisedBy.map((i) => i.id), [permission.id]);
        const idle = items[0];
        const acked = await hw.agents.ack(idle.id, "ann");
        assert.equal(typeof acked === "object" && acked.status, "acked");
        assert.equal(typeof acked === "object" && acked.acted_by, "ann");
        const snoozed = await hw.agents.snooze(
          permission.id,
          Date.now() + 60_000,
          "bob",
        );
        assert.equal(typeof snoozed === "object" && snoozed.status, "snoozed");
        assert.equal(typeof snoozed === "object" && snoozed.acted_by, "bob");
        await hw.close();
        hw = await start(await db.open());
        assert.deepEqual(
          await hw.agents.inbox({ status: "active", limit: 50 }),
          [],
        );
        const all = await hw.agents.inbox({ status: "all", limit: 50 });
        assert.deepEqual(all.map((i) => i.status), ["acked", "snoozed"]);
        // Another idle prompt of the same session is the same (acknowledged) item.
        await hw.ingest([
          hook("Notification", t0 + 120_000, {
            session_id: "s-idle",
            notification_type: "idle_prompt",
          }),
          // The tool ran after the permission: the agent moved on.
          hook("PostToolUseFailure", t0 + 9000),
        ]);
        const after = await hw.agents.inbox({ status: "all", limit: 50 });
        assert.equal(after.length, 2);
        assert.equal(
          after.find((i) => i.kind === "permission")?.status,
          "resolved",
        );
        assert.equal(after.find((i) => i.kind === "idle")?.status, "acked");
        assert.equal(await hw.agents.ack(permission.id, "ann"), "resolved");
        assert.equal(await hw.agents.ack(999_999, "ann"), "not_found");
      } finally {
        await hw.close();
        await db.cleanup();
      }
    },
  });

  Deno.test({
    name:
      `agents (${backend.name}) - two replicas: events folded once, sweeps idempotent, every change reaches both`,
    ignore: backend.ignore,
    fn: async () => {
      const db = await backend.fresh();
      const env = { HOOKWATCH_STALE_AFTER: "2m", HOOKWATCH_ORPHAN_AFTER: "1m" };
      const a = await start(await db.open(), env);
      // SQLite is one process; its "second replica" is a restart on the same file.
      const b = backend.name === "postgres"
        ? await start(await db.open(), env)
        : a;
      const seen: InboxItem[][] = [[], []];
      a.agents.onChange((items) => seen[0].push(...items));
      if (b !== a) b.agents.onChange((items) => seen[1].push(...items));
      try {
        const old = Date.now() - 10 * 60_000;
        await a.ingest([
          hook("UserPromptSubmit", old, { session_id: "silent" }),
          hook("PreToolUse", old + 1, { session_id: "silent" }),
        ]);
        await b.ingest([
          hook("PreToolUse", old + 2, {
            session_id: "silent",
            tool_use_id: "toolu_2",
            tool_input: { command: "chmod -R 777 /srv" },
          }),
        ]);
        await Promise.all([a.agents.flush(), b.agents.flush()]);
        const [sa, sb] = await Promise.all([
          a.agents.sweep(),
          b.agents.sweep(),
        ]);
        assert.deepEqual(
          { stale: sa.stale + sb.stale, orphaned: sa.orphaned + sb.orphaned },
          { stale: 1, orphaned: 2 },
        );
        // A session last seen 31 days ago leaves with its calls.
        await a.ingest([
          hook("PreToolUse", Date.now() - 31 * 86_400_000, {
            session_id: "ancient",
            tool_use_id: "toolu_old",
          }),
        ]);
        assert.equal((await a.agents.sweep()).pruned, 1);
        assert.equal(await a.agents.activity("ancient"), null);
        assert.deepEqual(await b.agents.tools("ancient", { limit: 5 }), []);
        assert.deepEqual(await a.agents.sweep(), {
          stale: 0,
          orphaned: 0,
          pruned: 0,
        });
        for (const hw of [a, b]) {
          const items = await hw.agents.inbox({ status: "all", limit: 50 });
          assert.deepEqual(
            items.map((i) => i.kind).sort(),
            ["dangerous", "orphaned", "orphaned", "stale"],
          );
          const tools = await hw.agents.tools("silent", { limit: 10 });
          assert.deepEqual(tools.map((t) => t.outcome), [
            "orphaned",
            "orphaned",
          ]);
          assert.equal((await hw.agents.activity("silent"))?.state, "stale");
        }
        const deadline = Date.now() + 5000;
        while (b !== a && seen[1].length < 4 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        for (const list of b === a ? [seen[0]] : seen) {
          assert.deepEqual(
            [...new Set(list.map((i) => i.kind))].sort(),
            ["dangerous", "orphaned", "stale"],
          );
        }
        // A new event wakes the session and resolves what it resolves.
        await a.ingest([
          hook("UserPromptSubmit", Date.now(), { session_id: "silent" }),
        ]);
        const open = await b.agents.inbox({ status: "active", limit: 50 });
        await b.agents.flush();
        assert.deepEqual(
          (await b.agents.inbox({ status: "active", limit: 50 })).map((i) =>
            i.kind
          ),
          ["dangerous"],
          `was ${open.map((i) => i.kind)}`,
        );
      } finally {
        await a.close();
        if (b !== a) await b.close();
        await db.cleanup();
      }
    },
  });

  Deno.test({
    name:
      `agents (${backend.name}) - hostile inputs (deep nesting, NUL, wrong types) never stop the fold`,
    ignore: backend.ignore,
    fn: async () => {
      const db = await backend.fresh();
      const hw = await start(await db.open());
      try {
        let deep: unknown = "x";
        for (let i = 0; i < 3000; i++) deep = { a: [deep] };
        await hw.ingest([
          hook("PreToolUse", 1, {
            session_id: "h",
            tool_input: deep,
            tool_use_id: "deep",
          }),
          hook("PreToolUse", 2, {
            session_id: "h",
            tool_name: "Bash\0",
            tool_input: { command: "echo \0 rm -rf / \0" },
            tool_use_id: "nul\0",
          }),
          hook("PostToolUse", 3, {
            session_id: "h",
            tool_use_id: 42,
            duration_ms: "soon",
          }),
          hook("PermissionRequest", 4, {
            session_id: "h",
            tool_name: { no: 1 },
          }),
          hook("PreToolUse", 5, { session_id: "h", tool_use_id: "after" }),
        ]);
        const tools = await hw.agents.tools("h", { limit: 10 });
        assert.deepEqual(
          tools.map((t) => t.tool_use_id).filter((id) => id !== "deep").map((
            id,
          ) => id.replace("\0", "")).sort(),
          ["after", "nul"],
        );
        assert.ok(tools.some((t) => t.tool_use_id === "deep"));
      } finally {
        await hw.close();
        await db.cleanup();
      }
    },
  });
}

Deno.test({
  name:
    "agents (postgres) - started while the database is away, the agent tables are created once it is back; ingest meanwhile is a 503, never an unfolded event",
  ignore: postgresIgnored(),
  fn: async () => {
    const cluster = await sharedCluster();
    const store = await PostgresStore.connect(await cluster.createDatabase(), {
      poolSize: 3,
    });
    await cluster.pause();
    let paused = true;
    const hw = createHookwatch(loadConfig({}), store, { sweep: false });
    try {
      const refused = await hw.ingest([hook("PreToolUse", Date.now())]).then(
        () => null,
        (error) => error,
      );
      assert.equal(refused?.status, 503, String(refused));
      assert.equal(hw.agents.isMigrated, false);
      await cluster.start();
      paused = false;
      await hw.agents.migrated;
      assert.equal(hw.agents.isMigrated, true);
      const t0 = Date.now() - 1000;
      const [, permission] = await hw.ingest([
        hook("PreToolUse", t0),
        hook("PermissionRequest", t0 + 5, {
          tool_input: fixture("PreToolUse").tool_input,
        }),
      ]);
      assert.ok(await hw.agents.settled(permission.event.id));
      const [item] = await hw.agents.itemsOfEvent(permission.event.id);
      assert.equal(item?.tool_use_id, "toolu_01HqV7W9kLmN3pQrStUvWxYz");
    } finally {
      if (paused) await cluster.start();
      await hw.close();
    }
  },
});
