import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Archiver } from "./archive.ts";
import {
  archiveFileName,
  parseArchiveFileName,
  readArchive,
  toArchived,
} from "./archive_file.ts";
import { type ArchiveSource, archiveSource } from "./archive_sql.ts";
import { RetentionSweeper } from "./retention.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { event } from "../../tests/helpers/store_suite.ts";
import type { EventStore } from "./store.ts";
import {
  postgresIgnored,
  sharedCluster,
} from "../../tests/helpers/postgres.ts";
import type { ClassifiedEvent } from "../../common/events.ts";

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 0, 10, 12, 30);
const at = (day: number, hour: number, minute: number) =>
  Date.UTC(2026, 0, day, hour, minute);
const ALL = Number.MAX_SAFE_INTEGER;

type Factory = () => Promise<{ store: EventStore; cleanup(): Promise<void> }>;

/** Every row of the store, all columns, in id order (both buckets). */
async function allRows(source: ArchiveSource) {
  const rows = [
    ...await source.page(1, 0, ALL, 0, ALL, 10_000),
    ...await source.page(0, 0, ALL, 0, ALL, 10_000),
  ];
  return rows.sort((a, b) => Number(a.id) - Number(b.id)).map(toArchived);
}

/** File name → parsed lines, read with node:zlib (not the module's reader). */
function files(dir: string): Map<string, Record<string, unknown>[]> {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  return new Map(names.map((name) => [
    name,
    new TextDecoder().decode(gunzipSync(Deno.readFileSync(`${dir}/${name}`)))
      .split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)),
  ]));
}

function sweeper(store: Pick<EventStore, "deleteExpired">) {
  return new RetentionSweeper(store, {
    priorityMs: 24 * HOUR,
    regularMs: 4 * HOUR,
    batchSize: 2,
    now: () => NOW,
  });
}

const rich = (overrides: Partial<ClassifiedEvent>) =>
  event({
    payload: { tool_name: "Bash", agent_id: "agent-7", n: 1.5, deep: [{}] },
    // Derived once at ingest; a store writes what it is given.
    agent_id: "agent-7",
    chat: [{ role: "user", content: "hi" }],
    summary: "a summary",
    model_name: "claude-x",
    received_at: (overrides.timestamp ?? 0) + 5,
    ...overrides,
  });

function archiveSuite(name: string, factory: Factory, ignore = false) {
  Deno.test({
    name:
      `archive ${name} - whole expired hours go to one gzip NDJSON file per bucket and hour, with every stored field; the rest stays`,
    ignore,
    fn: async () => {
      const { store, cleanup } = await factory();
      const dir = await Deno.makeTempDir();
      try {
        await store.insertBatch([
          rich({ priority: 1, timestamp: at(9, 10, 15), event_id: "e1" }),
          rich({ priority: 0, timestamp: at(10, 6, 5) }),
          rich({ priority: 1, timestamp: at(9, 11, 20) }),
          rich({ priority: 1, timestamp: at(9, 10, 45) }),
          rich({ priority: 0, timestamp: at(10, 7, 59), event_id: "e2" }),
          rich({ priority: 1, timestamp: at(9, 12, 10) }), // older than 24 h, hour not whole
          rich({ priority: 0, timestamp: at(10, 8, 10) }), // same for 4 h
          rich({ priority: 1, timestamp: at(10, 12, 0) }),
          rich({ priority: 0, timestamp: at(10, 12, 0) }),
        ]);
        const source = archiveSource(store.db);
        const before = await allRows(source);
        const deleted = await sweeper(new Archiver(source, dir)).sweep();
        assert.deepEqual(deleted, { priority: 3, regular: 2 });

        const byId = new Map(before.map((e) => [e.id, e]));
        const expected = (ids: number[]) => ids.map((id) => byId.get(id));
        const archived = files(dir);
        assert.deepEqual([...archived.keys()], [
          archiveFileName({
            bucket: "priority",
            hour: at(9, 10, 0),
            lastId: 4,
          }),
          archiveFileName({
            bucket: "priority",
            hour: at(9, 11, 0),
            lastId: 3,
          }),
          archiveFileName({ bucket: "regular", hour: at(10, 6, 0), lastId: 2 }),
          archiveFileName({ bucket: "regular", hour: at(10, 7, 0), lastId: 5 }),
        ]);
        assert.deepEqual([...archived.values()], [
          expected([1, 4]),
          expected([3]),
          expected([2]),
          expected([5]),
        ]);
        const first = archived.values().next().value![0];
        assert.deepEqual(Object.keys(first), [
          "id",
          "source_app",
          "session_id",
          "hook_event_type",
          "payload",
          "chat",
          "summary",
          "model_name",
          "timestamp",
          "received_at",
          "priority",
          "event_id",
          "agent_id",
          "agent",
          "agent_event",
        ]);
        assert.equal(first.agent_id, "agent-7");
        assert.equal(first.agent, "claude-code");
        assert.deepEqual(first.chat, [{ role: "user", content: "hi" }]);
        assert.deepEqual(
          (await allRows(source)).map((e) => e.id),
          [6, 7, 8, 9],
        );
        assert.deepEqual(
          await sweeper(new Archiver(source, dir)).sweep(),
          { priority: 0, regular: 0 },
          "nothing left to archive",
        );
        assert.equal(files(dir).size, 4);
      } finally {
        await cleanup();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name:
      `archive ${name} - late events of an archived hour get a new part; a failed delete is finished by the next sweep; every event is in exactly one file`,
    ignore,
    fn: async () => {
      const { store, cleanup } = await factory();
      const dir = await Deno.makeTempDir();
      try {
        const source = archiveSource(store.db);
        const hour = (n: number) =>
          Array.from(
            { length: n },
            (_, i) => rich({ priority: 1, timestamp: at(9, 10, i) }),
          );
        await store.insertBatch(hour(3));
        await sweeper(new Archiver(source, dir)).sweep();
        await store.insertBatch(hour(2)); // late: same hour, higher ids

        // The rows are written, then deleting them fails once (e.g. the database is locked).
        let calls = 0;
        const failing = (inner: ArchiveSource): ArchiveSource => ({
          exclusive: (work) =>
            inner.exclusive((locked) => work(failing(locked))),
          oldest: (...a) => inner.oldest(...a),
          idRange: (...a) => inner.idRange(...a),
          page: (...a) => inner.page(...a),
          importRows: (rows) => inner.importRows(rows),
          deleteUpTo: (...a) => {
            // Call 1 finishes part 1 (nothing left); call 2 follows writing part 2.
            if (++calls === 2) throw new Error("database is locked");
            return inner.deleteUpTo(...a);
          },
        });
        const flaky = failing(source);
        await assert.rejects(
          new Archiver(flaky, dir).deleteExpired(NOW - 24 * HOUR, 0, 2),
          /locked/,
        );
        assert.equal(files(dir).size, 2, "the second part was written");
        assert.equal((await allRows(source)).length, 2, "but not deleted");

        await store.insertBatch(hour(1)); // another late one meanwhile
        assert.deepEqual(
          await sweeper(new Archiver(source, dir)).sweep(),
          { priority: 3, regular: 0 },
        );
        const archived = files(dir);
        assert.deepEqual(
          [...archived.keys()].map((f) => parseArchiveFileName(f)?.lastId),
          [3, 5, 6],
          "three parts of one hour, sorted by last id",
        );
        assert.deepEqual(
          [...archived.values()].map((lines) => lines.map((l) => l.id)),
          [[1, 2, 3], [4, 5], [6]],
        );
        assert.deepEqual(await allRows(source), []);
      } finally {
        await cleanup();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name:
      `archive ${name} - import loads archived events with ids and every field, idempotently, and later ids continue above them`,
    ignore,
    fn: async () => {
      const original = await factory();
      const target = await factory();
      const dir = await Deno.makeTempDir();
      try {
        await original.store.insertBatch([
          rich({ priority: 1, timestamp: at(9, 10, 1), event_id: "x1" }),
          rich({ priority: 0, timestamp: at(9, 10, 2), chat: null }),
          rich({ priority: 0, timestamp: at(9, 11, 3), event_id: "x2" }),
        ]);
        const source = archiveSource(original.store.db);
        const before = await allRows(source);
        await sweeper(new Archiver(source, dir)).sweep();
        assert.deepEqual(await allRows(source), []);

        const into = archiveSource(target.store.db);
        const load = async () => {
          let inserted = 0;
          for (const file of files(dir).keys()) {
            const rows = [];
            for await (const row of readArchive(`${dir}/${file}`)) {
              rows.push(row);
            }
            inserted += await into.importRows(rows);
          }
          return inserted;
        };
        assert.equal(await load(), 3);
        assert.deepEqual(await allRows(into), before);
        assert.equal(await load(), 0, "a second import adds nothing");
        assert.deepEqual(await allRows(into), before);
        const [next] = await target.store.insertBatch([event()]);
        assert.equal(next.event.id, 4, "new ids continue after imported ones");
        const [again] = await target.store.insertBatch([
          event({ event_id: "x1" }),
        ]);
        assert.equal(again.duplicate, true, "imported event_ids dedupe");
      } finally {
        await original.cleanup();
        await target.cleanup();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

archiveSuite("sqlite", async () => {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open(`${dir}/a.db`);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

const pgIgnored = postgresIgnored();

async function postgresStore() {
  const { PostgresStore } = await import("./postgres_store.ts");
  const url = await (await sharedCluster()).createDatabase();
  // A pool of one: the archiver must not wait for a connection it holds itself.
  return await PostgresStore.connect(url, { poolSize: 1 });
}

archiveSuite("postgres", async () => {
  const store = await postgresStore();
  return { store, cleanup: () => store.close() };
}, pgIgnored);

Deno.test({
  name:
    "archive postgres - while one replica archives, another's sweep archives nothing (advisory lock); every event once",
  ignore: pgIgnored,
  fn: async () => {
    const { PostgresStore } = await import("./postgres_store.ts");
    const url = await (await sharedCluster()).createDatabase();
    const a = await PostgresStore.connect(url, { poolSize: 1 });
    const b = await PostgresStore.connect(url, { poolSize: 1 });
    const dir = await Deno.makeTempDir();
    try {
      await a.insertBatch(
        Array.from(
          { length: 5 },
          (_, i) => rich({ priority: 1, timestamp: at(9, 5 + i, 0) }),
        ),
      );
      const sourceA = archiveSource(a.db);
      const archiverB = new Archiver(archiveSource(b.db), dir);
      const inside = await sourceA.exclusive(() =>
        archiverB.deleteExpired(NOW - 24 * HOUR, 0, 100)
      );
      assert.deepEqual(inside, { priority: 0, regular: 0 });
      assert.equal(files(dir).size, 0);
      const [one, two] = await Promise.all([
        new Archiver(sourceA, dir).deleteExpired(NOW - 24 * HOUR, 0, 100),
        archiverB.deleteExpired(NOW - 24 * HOUR, 0, 100),
      ]);
      assert.equal(one.priority + two.priority, 5);
      const ids = [...files(dir).values()].flat().map((l) => l.id);
      assert.deepEqual(ids.sort(), [1, 2, 3, 4, 5]);
    } finally {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("archive - file names sort by bucket, hour and last id, and read back", () => {
  const names = [
    { bucket: "regular" as const, hour: at(9, 10, 0), lastId: 9 },
    { bucket: "priority" as const, hour: at(9, 11, 0), lastId: 2 },
    { bucket: "priority" as const, hour: at(9, 10, 0), lastId: 12 },
    { bucket: "priority" as const, hour: at(9, 10, 0), lastId: 3 },
  ].map(archiveFileName);
  assert.equal(
    names[0],
    "events-regular-2026-01-09T10-0000000000000009.ndjson.gz",
  );
  assert.deepEqual([...names].sort(), [names[3], names[2], names[1], names[0]]);
  assert.deepEqual(parseArchiveFileName(names[2]), {
    bucket: "priority",
    hour: at(9, 10, 0),
    lastId: 12,
  });
  assert.equal(parseArchiveFileName("notes.txt"), null);
  assert.equal(parseArchiveFileName(".events-x.ndjson.gz.tmp"), null);
});
