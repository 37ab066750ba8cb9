/**
 * {@linkcode Db} on one `node:sqlite` connection, and SQLite's schema versioning. A transaction
 * runs synchronously from `BEGIN IMMEDIATE` to `COMMIT`, so nothing else runs on the connection
 * meanwhile; statements are prepared once and kept.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { Db, Migrations, Row, Tx } from "./db.ts";
import { log } from "../base/log.ts";

/** {@linkcode Db} on `connection`. */
export function sqliteDb(connection: DatabaseSync): Db {
  const prepared = new Map<string, StatementSync>();
  const run = <T>(gen: Tx<T>): T => {
    let step = gen.next();
    while (!step.done) {
      const { sql, params, only } = step.value;
      let rows: Row[] = [];
      if (only === undefined || only === "sqlite") {
        let statement = prepared.get(sql);
        if (!statement) {
          statement = connection.prepare(sql);
          prepared.set(sql, statement);
        }
        rows = statement.all(...params as SQLInputValue[]) as Row[];
      }
      step = gen.next(rows);
    }
    return step.value;
  };
  const db: Db = {
    kind: "sqlite",
    write(tx) {
      try {
        connection.exec("BEGIN IMMEDIATE");
        try {
          const result = run(tx());
          connection.exec("COMMIT");
          return Promise.resolve(result);
        } catch (error) {
          if (connection.isTransaction) connection.exec("ROLLBACK");
          throw error;
        }
      } catch (error) {
        return Promise.reject(error);
      }
    },
    read(tx) {
      try {
        return Promise.resolve(run(tx()));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    migrate(component, migrations: Migrations) {
      try {
        migrateSqlite(connection, component, migrations.sqlite);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    listen: () => Promise.resolve(),
    exclusive: (_lock, work) => work(db),
  };
  return db;
}

/**
 * Applies the migrations of `component` that have not run yet, each in its own transaction;
 * `schema_migrations` records how many of each component have run. Never edit a migration
 * that has shipped: append a new one.
 *
 * @example
 * ```ts
 * migrateSqlite(connection, "sessions", ["CREATE TABLE sessions (id TEXT PRIMARY KEY)"]);
 * ```
 */
export function migrateSqlite(
  connection: DatabaseSync,
  component: string,
  migrations: readonly string[],
): void {
  connection.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
  );
  const row = connection.prepare(
    "SELECT version FROM schema_migrations WHERE component = ?",
  ).get(component) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(
      `database schema of ${component} is version ${current}, newer than this hookwatch (${migrations.length})`,
    );
  }
  const record = connection.prepare(
    "INSERT INTO schema_migrations (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version",
  );
  for (let version = current; version < migrations.length; version++) {
    connection.exec("BEGIN IMMEDIATE");
    try {
      connection.exec(migrations[version]);
      record.run(component, version + 1);
      connection.exec("COMMIT");
      log.info("migration applied", {
        store: "sqlite",
        component,
        version: version + 1,
      });
    } catch (error) {
      connection.exec("ROLLBACK");
      throw error;
    }
  }
}
