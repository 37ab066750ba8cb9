/**
 * The behaviour every {@linkcode EventStore} shares, as one suite run against each backend
 * (`lib/store/sqlite_store_suite_test.ts`, `lib/store/postgres_store_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { EventStore } from "../../lib/store/store.ts";
import { INSERT_COLUMNS, streamView } from "../../lib/store/event_rows.ts";
import type { ClassifiedEvent } from "../../common/events.ts";
import type { AgentName } from "../../common/adapters/names.ts";

/** A fresh, empty store and how to dispose of it. */
export interface SuiteStore {
  store: EventStore;
  /** Closes the store (if still open) and removes what it created. */
  cleanup(): Promise<void>;
  /** The columns of the store's `events` table, read from the database itself. */
  columns(): Promise<string[]>;
}

/** Options for {@linkcode storeSuite}. */
export interface SuiteOptions {
  /** Skip every test (the backend is not available here). */
  ignore?: boolean;
}

const HOUR = 3600_000;

/** A classified event for store tests, newest-time defaults, any field overridable. */
export function event(
  overrides: Partial<ClassifiedEvent> = {},
): ClassifiedEvent {
  const now = Date.now();
  return {
    source_app: "app",
    session_id: "s1",
    hook_event_type: "PreToolUse",
    payload: { tool_name: "Bash" },
    timestamp: now,
    received_at: now,
    priority: 0,
    ...overrides,
  };
}

const ids = (events: { id: number }[]) => events.map((e) => e.id);

/**
 * Registers the shared behaviour tests against stores made by `factory`; each test gets a
 * fresh store.
 *
 * @example
 * ```ts
 * storeSuite("sqlite", async () => {
 *   const dir = await Deno.makeTempDir();
 *   const store = SqliteStore.open(`${dir}/e.db`);
 *   return { store, cleanup: async () => { await store.close(); await Deno.remove(dir, { recursive: true }); } };
 * });
 * ```
 */
export function storeSuite(
  name: string,
  factory: () => Promise<SuiteStore>,
  options: SuiteOptions = {},
): void {
  const test = (
    behaviour: string,
    fn: (store: EventStore, made: SuiteStore) => Promise<void>,
  ) =>
    Deno.test({
      name: `${name} store - ${behaviour}`,
      ignore: options.ignore ?? false,
      fn: async () => {
        const made = await factory();
        const { store, cleanup } = made;
        try {
          await fn(store, made);
        } finally {
          await cleanup();
        }
      },
    });

  test("an empty store has max id 0 and no events", async (store) => {
    assert.equal(await store.maxId(), 0);
    assert.deepEqual(await store.recent({ limit: 10 }), []);
    assert.deepEqual(await store.since(0, 10), []);
    assert.equal(await store.get(1), null);
    assert.deepEqual(await store.filterOptions(), {
      source_apps: [],
      session_ids: [],
      hook_event_types: [],
    });
  });

  test("a batch is stored in order with increasing ids and reads back whole", async (store) => {
    const batch = [
      event({
        payload: {
          tool_name: "Bash",
          agent_id: "agent-7",
          nested: { n: [1, "ü"] },
        },
        agent_id: "agent-7",
        chat: [{ role: "user", content: "héllo <b>" }],
        summary: "ran ls",
        model_name: "claude-x",
        event_id: "e-1",
      }),
      event({ hook_event_type: "Stop", priority: 1 }),
      event({ session_id: "s2" }),
    ];
    const results = await store.insertBatch(batch);
    assert.equal(results.length, 3);
    assert.ok(results.every((r) => !r.duplicate));
    const stored = results.map((r) => r.event);
    assert.ok(stored[0].id < stored[1].id && stored[1].id < stored[2].id);
    assert.equal(stored[0].agent_id, "agent-7");
    assert.equal(stored[1].hook_event_type, "Stop");
    assert.equal(stored[2].session_id, "s2");
    const first = await store.get(stored[0].id);
    assert.deepEqual(first, {
      ...stored[0],
      chat: [{ role: "user", content: "héllo <b>" }],
    });
    for (const e of stored.slice(1)) {
      assert.deepEqual(await store.get(e.id), { ...e, chat: null });
    }
    assert.equal(await store.maxId(), stored[2].id);
    assert.deepEqual(await store.insertBatch([]), []);
  });

  test(
    "the events table has a column for every stored field and no other",
    async (_, made) => {
      assert.deepEqual(
        (await made.columns()).sort(),
        ["id", ...INSERT_COLUMNS].sort(),
      );
    },
  );

  test("every stored field round-trips through insert, get, lists, snapshot and duplicates", async (store) => {
    const now = Date.now();
    const full: Required<ClassifiedEvent> = {
      source_app: "app-ü",
      session_id: "session-1",
      hook_event_type: "SubagentStop",
      payload: {
        agent_id: "agent-9",
        nested: { n: [1, "ü", null, 1e21, -0.5] },
        text: 'say "hi"\n</script>\u2028😀\\',
      },
      timestamp: now - 1,
      received_at: now,
      priority: 1,
      model_name: "claude-x",
      summary: "stopped <b>",
      chat: [{ role: "user", content: "héllo" }],
      event_id: "round-trip-1",
      agent_id: "agent-9",
      agent: "gemini-cli",
      agent_event: "AfterAgent",
    };
    assert.deepEqual(
      Object.keys(full).sort(),
      [...INSERT_COLUMNS].sort(),
      "the test sets every field",
    );
    const [inserted] = await store.insertBatch([full]);
    const { chat, ...listed } = full;
    const expected = { id: inserted.event.id, ...listed };
    assert.deepEqual(inserted, { duplicate: false, event: expected });
    assert.deepEqual(await store.get(expected.id), { ...expected, chat });
    assert.deepEqual(await store.recent({ limit: 1 }), [expected]);
    assert.deepEqual(await store.since(0, 1), [expected]);
    const snapshot = await store.snapshot({
      now,
      priorityLimit: 1,
      regularLimit: 1,
      priorityRetentionMs: HOUR,
      regularRetentionMs: HOUR,
    });
    assert.deepEqual(snapshot, {
      priority: [{
        id: expected.id,
        source_app: expected.source_app,
        priority: 1,
        timestamp: expected.timestamp,
        agent: "gemini-cli",
        json: JSON.stringify(streamView(expected)),
      }],
      regular: [],
    });
    assert.deepEqual(await store.insertBatch([full]), [
      { duplicate: true, event: expected },
    ]);
  });

  test("a batch is all or nothing", async (store) => {
    const [kept] = await store.insertBatch([event()]);
    const bad = {
      ...event(),
      source_app: null,
    } as unknown as ClassifiedEvent;
    await assert.rejects(store.insertBatch([event(), event(), bad, event()]));
    assert.equal(await store.maxId(), kept.event.id);
    assert.deepEqual(ids(await store.recent({ limit: 10 })), [kept.event.id]);
    const [after] = await store.insertBatch([event({ summary: "after" })]);
    assert.ok(after.event.id > kept.event.id);
    assert.equal((await store.get(after.event.id))?.summary, "after");
  });

  test("an event_id already stored is returned as a duplicate, not stored again", async (store) => {
    const [original] = await store.insertBatch([
      event({ event_id: "retry-1", summary: "first" }),
    ]);
    const again = await store.insertBatch([
      event({ summary: "other" }),
      event({ event_id: "retry-1", summary: "second" }),
      event({ event_id: "new-1" }),
      event({ event_id: "new-1", summary: "same batch" }),
    ]);
    assert.deepEqual(again.map((r) => r.duplicate), [false, true, false, true]);
    assert.equal(again[1].event.id, original.event.id);
    assert.equal(again[1].event.summary, "first");
    assert.equal(again[3].event.id, again[2].event.id);
    assert.ok(again[0].event.id < again[2].event.id);
    const all = await store.recent({ limit: 10 });
    assert.equal(all.length, 3);
    assert.deepEqual(
      all.map((e) => e.event_id).sort(),
      [null, "new-1", "retry-1"].sort(),
    );
  });

  test("recent is newest first and applies each filter", async (store) => {
    const stored = (await store.insertBatch([
      event({
        source_app: "a",
        session_id: "s1",
        hook_event_type: "Stop",
        priority: 1,
      }),
      event({
        source_app: "b",
        session_id: "s1",
        hook_event_type: "PreToolUse",
      }),
      event({
        source_app: "a",
        session_id: "s2",
        hook_event_type: "PreToolUse",
      }),
      event({
        source_app: "b",
        session_id: "s2",
        hook_event_type: "Stop",
        priority: 1,
      }),
      event({
        source_app: "a",
        session_id: "s1",
        hook_event_type: "PostToolUse",
      }),
    ])).map((r) => r.event.id);
    const q = async (query: Parameters<EventStore["recent"]>[0]) =>
      ids(await store.recent(query));
    assert.deepEqual(await q({ limit: 10 }), [...stored].reverse());
    assert.deepEqual(await q({ limit: 2 }), [stored[4], stored[3]]);
    assert.deepEqual(await q({ limit: 10, source_app: "a" }), [
      stored[4],
      stored[2],
      stored[0],
    ]);
    assert.deepEqual(await q({ limit: 10, session_id: "s2" }), [
      stored[3],
      stored[2],
    ]);
    assert.deepEqual(await q({ limit: 10, hook_event_type: "Stop" }), [
      stored[3],
      stored[0],
    ]);
    assert.deepEqual(await q({ limit: 10, priority: 1 }), [
      stored[3],
      stored[0],
    ]);
    assert.deepEqual(await q({ limit: 10, priority: 0 }), [
      stored[4],
      stored[2],
      stored[1],
    ]);
    assert.deepEqual(
      await q({ limit: 10, source_app: "a", session_id: "s1", priority: 0 }),
      [stored[4]],
    );
    assert.deepEqual(await q({ limit: 10, source_app: "nobody" }), []);
  });

  test("every event carries its agent (Claude Code when it names none) and recent filters on it", async (store) => {
    const stored = (await store.insertBatch([
      event(),
      event({ agent: "codex" }),
      event({ agent: "copilot-cli", agent_event: "preToolUse" }),
      event({ agent: "claude-code" }),
    ])).map((r) => r.event);
    assert.deepEqual(stored.map((e) => [e.agent, e.agent_event]), [
      ["claude-code", null],
      ["codex", null],
      ["copilot-cli", "preToolUse"],
      ["claude-code", null],
    ]);
    const got = await store.recent({ limit: 10 });
    assert.deepEqual(
      got.map((e) => e.agent),
      ["claude-code", "copilot-cli", "codex", "claude-code"],
    );
    const q = async (agent: AgentName) =>
      ids(await store.recent({ limit: 10, agent }));
    assert.deepEqual(await q("claude-code"), [stored[3].id, stored[0].id]);
    assert.deepEqual(await q("codex"), [stored[1].id]);
    assert.deepEqual(await q("copilot-cli"), [stored[2].id]);
    assert.deepEqual(await q("gemini-cli"), []);
  });

  test("snapshot caps each bucket and keeps only its retention window", async (store) => {
    const now = Date.now();
    const batch: ClassifiedEvent[] = [];
    // priority: 2 outside the 24 h window, then 5 inside; regular: 2 outside 4 h, then 6 inside.
    const MIN = 60_000;
    for (
      const age of [
        30 * HOUR,
        25 * HOUR,
        5 * MIN,
        4 * MIN,
        3 * MIN,
        2 * MIN,
        MIN,
      ]
    ) {
      batch.push(
        event({ priority: 1, hook_event_type: "Stop", timestamp: now - age }),
      );
    }
    for (
      const age of [
        5 * HOUR,
        4.5 * HOUR,
        6 * MIN,
        5 * MIN,
        4 * MIN,
        3 * MIN,
        2 * MIN,
        MIN,
      ]
    ) {
      batch.push(event({ timestamp: now - age }));
    }
    const stored = (await store.insertBatch(batch)).map((r) => r.event);
    const priority = stored.filter((e) => e.priority === 1);
    const regular = stored.filter((e) => e.priority === 0);
    const snap = await store.snapshot({
      now,
      priorityLimit: 3,
      regularLimit: 4,
      priorityRetentionMs: 24 * HOUR,
      regularRetentionMs: 4 * HOUR,
    });
    assert.deepEqual(ids(snap.priority), ids(priority.slice(-3).reverse()));
    assert.deepEqual(ids(snap.regular), ids(regular.slice(-4).reverse()));
    assert.ok(snap.priority.every((e) => !("chat" in JSON.parse(e.json))));
    const wide = await store.snapshot({
      now,
      priorityLimit: 200,
      regularLimit: 100,
      priorityRetentionMs: 24 * HOUR,
      regularRetentionMs: 4 * HOUR,
    });
    assert.deepEqual(ids(wide.priority), ids(priority.slice(2).reverse()));
    assert.deepEqual(ids(wide.regular), ids(regular.slice(2).reverse()));
  });

  test("since returns later events oldest first, at most limit", async (store) => {
    const stored = (await store.insertBatch(
      Array.from({ length: 6 }, (_, i) => event({ summary: `n${i}` })),
    )).map((r) => r.event.id);
    assert.deepEqual(ids(await store.since(0, 100)), stored);
    assert.deepEqual(ids(await store.since(stored[2], 100)), stored.slice(3));
    assert.deepEqual(ids(await store.since(stored[1], 2)), stored.slice(2, 4));
    assert.deepEqual(await store.since(stored[5], 100), []);
    assert.equal(await store.maxId(), stored[5]);
  });

  test("filterOptions lists distinct apps and types sorted, sessions most recent first", async (store) => {
    await store.insertBatch([
      event({ source_app: "zeta", session_id: "old", hook_event_type: "Stop" }),
      event({
        source_app: "Alpha",
        session_id: "mid",
        hook_event_type: "PreToolUse",
      }),
      event({ source_app: "zeta", session_id: "new", hook_event_type: "Stop" }),
      event({
        source_app: "beta",
        session_id: "mid",
        hook_event_type: "Notification",
      }),
    ]);
    assert.deepEqual(await store.filterOptions(), {
      source_apps: ["Alpha", "beta", "zeta"],
      session_ids: ["mid", "new", "old"],
      hook_event_types: ["Notification", "PreToolUse", "Stop"],
    });
  });

  test("deleteExpired deletes exactly the expired rows, in bounded batches", async (store) => {
    const now = Date.now();
    const batch: ClassifiedEvent[] = [];
    for (let i = 0; i < 7; i++) {
      batch.push(
        event({ timestamp: now - 5 * HOUR - i, summary: "old-regular" }),
      );
    }
    for (let i = 0; i < 4; i++) {
      batch.push(
        event({
          priority: 1,
          timestamp: now - 25 * HOUR - i,
          summary: "old-priority",
        }),
      );
    }
    // Inside their windows: a priority event older than the regular window stays.
    batch.push(
      event({ priority: 1, timestamp: now - 5 * HOUR, summary: "keep" }),
    );
    batch.push(event({ timestamp: now - HOUR, summary: "keep" }));
    batch.push(event({ timestamp: now - 4 * HOUR + 1000, summary: "keep" }));
    await store.insertBatch(batch);
    const priorityBefore = now - 24 * HOUR;
    const regularBefore = now - 4 * HOUR;
    const expire = () => store.deleteExpired(priorityBefore, regularBefore, 3);
    assert.deepEqual(await expire(), { priority: 3, regular: 3 });
    assert.deepEqual(await expire(), { priority: 1, regular: 3 });
    assert.deepEqual(await expire(), { priority: 0, regular: 1 });
    assert.deepEqual(await expire(), { priority: 0, regular: 0 });
    const left = await store.recent({ limit: 100 });
    assert.equal(left.length, 3);
    assert.ok(left.every((e) => e.summary === "keep"));
  });

  test("ping answers while open; calls after close reject", async (store) => {
    await store.ping();
    await store.close();
    await assert.rejects(store.ping());
    await assert.rejects(store.insertBatch([event()]));
  });
}
