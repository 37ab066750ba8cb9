/**
 * Schema versioning for SQLite: each component (events, sessions, …) owns an ordered list of
 * migrations; `schema_migrations` records how many of each have run.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { log } from "../base/log.ts";

/**
 * Applies the migrations of `component` that have not run yet, each in its own transaction.
 * Never edit a migration that has shipped: append a new one.
 *
 * @example
 * ```ts
 * migrate(db, "sessions", ["CREATE TABLE sessions (id TEXT PRIMARY KEY)"]);
 * ```
 */
export function migrate(
  db: DatabaseSync,
  component: string,
  migrations: readonly string[],
): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
  );
  const row = db.prepare(
    "SELECT version FROM schema_migrations WHERE component = ?",
  ).get(
    component,
  ) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(
      `database schema of ${component} is version ${current}, newer than this hookwatch (${migrations.length})`,
    );
  }
  const record = db.prepare(
    "INSERT INTO schema_migrations (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version",
  );
  for (let version = current; version < migrations.length; version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migrations[version]);
      record.run(component, version + 1);
      db.exec("COMMIT");
      log.info("migration applied", {
        store: "sqlite",
        component,
        version: version + 1,
      });
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}
