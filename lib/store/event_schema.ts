/**
 * The events table of each database, side by side: one migration per entry; append, never
 * edit. Adding a field: add it to `EVENT_FIELDS` (`event_rows.ts`), then one migration here for
 * each database (`event_rows_test.ts` fails until both tables have the column).
 *
 * PostgreSQL's table has two statement triggers: one serialises inserts (so commit order is id
 * order, and a reader that has seen id N has seen every smaller id), one sends
 * `NOTIFY hookwatch_events, '<first_id>,<last_id>'` for the replicas' feeds.
 *
 * @module
 */
import type { Migrations } from "./db.ts";
import { LOCK_CLASS, LOCK_INSERT } from "./postgres_db.ts";
import { DEFAULT_AGENT } from "../../common/adapters/names.ts";
import { NOT_DEFAULT_AGENT } from "./event_rows.ts";

/** The NOTIFY channel carrying `<first_id>,<last_id>` of each committed insert. */
export const EVENTS_CHANNEL = "hookwatch_events";

/**
 * `agent` (which coding agent sent the event; every older row was Claude Code's) and
 * `agent_event` (the agent's own name for the event when it differs from `hook_event_type`).
 * The index covers only the other agents' rows, so Claude Code's inserts (the bulk) do not pay
 * for it; `recentTx` names its predicate when it filters on one of them.
 */
const AGENT_COLUMNS = (text: string) => `
   ALTER TABLE events ADD COLUMN agent ${text} NOT NULL DEFAULT '${DEFAULT_AGENT}';
   ALTER TABLE events ADD COLUMN agent_event ${text};
   CREATE INDEX events_agent_id ON events (agent, id) WHERE ${NOT_DEFAULT_AGENT};`;

/** The events schema. */
export const EVENT_MIGRATIONS: Migrations = {
  sqlite: [
    `CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     source_app TEXT NOT NULL,
     session_id TEXT NOT NULL,
     hook_event_type TEXT NOT NULL,
     payload TEXT NOT NULL,
     chat TEXT,
     summary TEXT,
     model_name TEXT,
     timestamp INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     priority INTEGER NOT NULL,
     event_id TEXT,
     agent_id TEXT
   );
   CREATE UNIQUE INDEX events_event_id ON events (event_id) WHERE event_id IS NOT NULL;
   CREATE INDEX events_bucket_id ON events (priority, id);
   CREATE INDEX events_bucket_time ON events (priority, timestamp);
   CREATE INDEX events_app_id ON events (source_app, id);
   CREATE INDEX events_session_id ON events (session_id, id);
   CREATE INDEX events_type_id ON events (hook_event_type, id);`,
    AGENT_COLUMNS("TEXT"),
  ],
  postgres: [
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
    AGENT_COLUMNS("text"),
  ],
};
