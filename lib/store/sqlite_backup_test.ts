import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  backupSqlite,
  databaseInUse,
  inspectBackup,
  restoreSqlite,
} from "./sqlite_backup.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { event } from "../../tests/helpers/store_suite.ts";

function count(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM events").get() as {
      n: number;
    }).n;
  } finally {
    db.close();
  }
}

Deno.test("sqlite backup - restore refuses an open database, and moves a crashed one aside with its WAL instead of replaying that WAL into the backup", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const live = `${dir}/live.db`;
    const store = SqliteStore.open(live);
    await store.insertBatch([event(), event(), event()]);
    const summary = await backupSqlite(live, `${dir}/backup.db`);
    assert.equal(summary.events, 3);
    assert.equal(summary.maxId, 3);
    await store.insertBatch([event(), event()]); // in the WAL only
    assert.equal(databaseInUse(live), true);
    await assert.rejects(
      restoreSqlite(`${dir}/backup.db`, live),
      /live\.db is in use \(is hookwatch running\?\)/,
    );

    // What a SIGKILL leaves: the database file and a WAL holding the last commits.
    const crashed = `${dir}/crashed.db`;
    await Deno.copyFile(live, crashed);
    await Deno.copyFile(`${live}-wal`, `${crashed}-wal`);
    await store.close();
    assert.equal(databaseInUse(crashed), false);

    const restored = await restoreSqlite(
      `${dir}/backup.db`,
      crashed,
      new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    );
    assert.equal(
      restored.previous,
      `${crashed}.before-restore-2026-01-02T03-04-05-000Z`,
    );
    assert.equal(count(crashed), 3, "the backup, not the old WAL replayed");
    assert.equal(count(restored.previous!), 5, "the old database kept whole");
    assert.equal((await inspectBackup(crashed)).maxId, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite backup - never overwrites an existing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = SqliteStore.open(`${dir}/a.db`);
    await store.close();
    await Deno.writeTextFile(`${dir}/b.db`, "keep me");
    await assert.rejects(
      backupSqlite(`${dir}/a.db`, `${dir}/b.db`),
      /exists already/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/b.db`), "keep me");
    await assert.rejects(
      backupSqlite(`${dir}/missing.db`, `${dir}/c.db`),
      /does not exist/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
