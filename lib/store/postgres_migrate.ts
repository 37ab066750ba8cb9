/**
 * The PostgreSQL schema: the events table with its insert-serialising and NOTIFY triggers, and
 * the migration runner every component's tables use (under an advisory lock, so replicas
 * starting together don't race).
 *
 * @module
 */
import type postgres from "postgres";
import { log } from "../base/log.ts";

/** The NOTIFY channel carrying `<first_id>,<last_id>` of each committed insert. */
export const EVENTS_CHANNEL = "hookwatch_events";

/** Advisory lock keys (per database): one for migrations, one serialising inserts. */
const LOCK_CLASS = 0x686f6f6b; // "hook"
const LOCK_MIGRATE = 1;
const LOCK_INSERT = 2;

/** The events schema, one migration per entry; append, never edit. */
export const PG_EVENT_MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     source_app text NOT NULL,
     session_id text NOT NULL,
     hook_event_type text NOT NULL,
     payload text NOT NULL,
     chat text,
     summary text,
     model_name text,
     "timestamp" bigint NOT NULL,
     received_at bigint NOT NULL,
     priority smallint NOT NULL,
     event_id text,
     agent_id text
   );
   CREATE UNIQUE INDEX events_event_id ON events (event_id) WHERE event_id IS NOT NULL;
   CREATE INDEX events_bucket_id ON events (priority, id);
   CREATE INDEX events_bucket_time ON events (priority, "timestamp");
   CREATE INDEX events_app_id ON events (source_app, id);
   CREATE INDEX events_session_id ON events (session_id, id);
   CREATE INDEX events_type_id ON events (hook_event_type, id);
   CREATE FUNCTION hookwatch_events_serialise() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_advisory_xact_lock(${LOCK_CLASS}, ${LOCK_INSERT});
     RETURN NULL;
   END $$;
   CREATE TRIGGER events_serialise BEFORE INSERT ON events
     FOR EACH STATEMENT EXECUTE FUNCTION hookwatch_events_serialise();
   CREATE FUNCTION hookwatch_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE lo bigint; hi bigint;
   BEGIN
     SELECT min(id), max(id) INTO lo, hi FROM new_rows;
     IF lo IS NOT NULL THEN
       PERFORM pg_notify('${EVENTS_CHANNEL}', lo || ',' || hi);
     END IF;
     RETURN NULL;
   END $$;
   CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
     FOR EACH STATEMENT EXECUTE FUNCTION hookwatch_events_notify();`,
];

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
