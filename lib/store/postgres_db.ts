/**
 * {@linkcode Db} on a PostgreSQL pool (`npm:postgres`), and PostgreSQL's schema versioning. `?`
 * placeholders are numbered (`$1`, …) once per statement text; statements are prepared. A
 * write runs in one transaction that first takes the writer advisory lock, so writes of every
 * replica are serialised as SQLite's are.
 *
 * @module
 */
import type postgres from "postgres";
import type { Db, ExclusiveLock, Migrations, Query, Row, Tx } from "./db.ts";
import { log } from "../base/log.ts";

/** Advisory lock keys (per database), in one class. */
export const LOCK_CLASS = 0x686f6f6b; // "hook"
const LOCK_MIGRATE = 1;
/** Serialises event inserts (the events table's trigger takes it). */
export const LOCK_INSERT = 2;
const LOCK_EXCLUSIVE: Record<ExclusiveLock, number> = { archive: 3 };
const LOCK_WRITE = 4;

const numbered = new Map<string, string>();
function pgText(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, text);
  }
  return text;
}

/** {@linkcode Db} on `sql` (which parses `bigint` as a number: see `postgres_store.ts`). */
export function postgresDb(sql: postgres.Sql): Db {
  const execOn =
    (client: postgres.Sql | postgres.TransactionSql) =>
    async (query: Query): Promise<Row[]> => {
      if (query.only === "sqlite") return [];
      return [
        ...await client.unsafe(
          pgText(query.sql),
          // PostgreSQL text cannot hold NUL; SQLite can, and keeps it.
          query.params.map((p) =>
            typeof p === "string" && p.includes("\0")
              ? p.replaceAll("\0", "")
              : p
          ) as postgres.ParameterOrJSON<never>[],
          { prepare: true },
        ),
      ] as Row[];
    };
  const run = async <T>(
    gen: Tx<T>,
    exec: (query: Query) => Promise<Row[]>,
  ): Promise<T> => {
    let step = gen.next();
    while (!step.done) step = gen.next(await exec(step.value));
    return step.value;
  };
  return {
    kind: "postgres",
    write: (tx) =>
      sql.begin(async (client) => {
        await client`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${LOCK_WRITE})`;
        return await run(tx(), execOn(client));
      }) as Promise<never>,
    read: (tx) => run(tx(), execOn(sql)),
    migrate: (component, migrations: Migrations) =>
      migratePostgres(sql, component, migrations.postgres),
    listen: async (channel, onNotice) => {
      // The second callback runs on every (re)connect: notices may have been missed.
      await sql.listen(channel, onNotice, () => onNotice(""));
    },
    exclusive: async (lock, work) => {
      // Every query of `work` on the locked connection: a pool of one cannot starve.
      const session = await sql.reserve();
      const key = LOCK_EXCLUSIVE[lock];
      try {
        const [{ locked }] = await session<{ locked: boolean }[]>`
          SELECT pg_try_advisory_lock(${LOCK_CLASS}, ${key}) AS locked`;
        if (!locked) return null;
        try {
          return await work(postgresDb(session as unknown as postgres.Sql));
        } finally {
          await session`SELECT pg_advisory_unlock(${LOCK_CLASS}, ${key})`;
        }
      } finally {
        session.release();
      }
    },
  };
}

/**
 * Applies the migrations of `component` that have not run yet, in one transaction under an
 * advisory lock (replicas starting at once wait for each other). Never edit a shipped
 * migration: append one.
 */
export async function migratePostgres(
  sql: postgres.Sql,
  component: string,
  migrations: readonly string[],
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${LOCK_MIGRATE})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      component text PRIMARY KEY, version integer NOT NULL)`;
    const [row] = await tx<{ version: number }[]>`
      SELECT version FROM schema_migrations WHERE component = ${component}`;
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `database schema of ${component} is version ${current}, newer than this hookwatch (${migrations.length})`,
      );
    }
    for (let version = current; version < migrations.length; version++) {
      await tx.unsafe(migrations[version]);
    }
    if (current < migrations.length) {
      log.info("migration applied", {
        store: "postgres",
        component,
        from_version: current,
        version: migrations.length,
      });
      await tx`INSERT INTO schema_migrations (component, version)
        VALUES (${component}, ${migrations.length})
        ON CONFLICT (component) DO UPDATE SET version = excluded.version`;
    }
  });
}
