import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { asStoreUnavailable, StoreUnavailableError } from "./store_errors.ts";

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  assert.fail("expected a throw");
}

Deno.test("store errors - a full SQLite database is unavailable, a bad statement is a bug", () => {
  const db = new DatabaseSync(":memory:");
  try {
    db.exec("PRAGMA max_page_count = 2; CREATE TABLE t (x TEXT)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    const full = thrown(() => {
      for (let i = 0; i < 100; i++) insert.run("x".repeat(4096));
    });
    const mapped = asStoreUnavailable(full);
    assert.ok(mapped instanceof StoreUnavailableError);
    assert.equal(mapped.reason, "the database or disk is full");

    const viaExec = thrown(() =>
      db.exec("INSERT INTO t VALUES (zeroblob(100000))")
    );
    assert.equal(
      asStoreUnavailable(viaExec)?.reason,
      "the database or disk is full",
    );

    assert.equal(asStoreUnavailable(thrown(() => db.exec("SELEC 1"))), null);
    assert.equal(asStoreUnavailable(new TypeError("x is undefined")), null);
  } finally {
    db.close();
  }
});

Deno.test("store errors - PostgreSQL connection and resource failures are unavailable", () => {
  for (
    const code of [
      "CONNECTION_CLOSED",
      "ECONNREFUSED",
      "08006",
      "53100",
      "57P01",
    ]
  ) {
    assert.ok(asStoreUnavailable({ code }), code);
  }
  for (const code of ["23505", "42P01", "22P02"]) {
    assert.equal(asStoreUnavailable({ code }), null, code);
  }
});
