/**
 * The sessions tests' harness: each test runs against a fresh SQLite file and a fresh database
 * on a real PostgreSQL, with the tracker, a tally that writes as the agent fold does, and a way
 * to open the same database again (another replica, or a restart).
 *
 * @module
 */
import assert from "node:assert/strict";
import { SessionTracker } from "../../lib/sessions/sessions.ts";
import { tallyTx } from "../../lib/sessions/tally.ts";
import type { EventStore } from "../../lib/store/store.ts";
import { SqliteStore } from "../../lib/store/sqlite_store.ts";
import { PostgresStore } from "../../lib/store/postgres_store.ts";
import { postgresIgnored, sharedCluster } from "./postgres.ts";
import type { StoredEvent } from "../../common/events.ts";
import { SESSION_ID } from "../fixtures/otlp/scenario.ts";

/** The tests' clock. */
export const NOW = 1_795_800_000_000;

interface Backend {
  name: string;
  ignore: boolean;
  /** A fresh empty store; `reopen` opens the same database again (a restart). */
  open(): Promise<{ store: EventStore; reopen(): Promise<EventStore> }>;
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite",
    ignore: false,
    async open() {
      const dir = await Deno.makeTempDir({ prefix: "hookwatch-sessions-" });
      const path = `${dir}/test.db`;
      return {
        store: SqliteStore.open(path),
        reopen: () => Promise.resolve(SqliteStore.open(path)),
      };
    },
  },
  {
    name: "postgres",
    ignore: postgresIgnored(),
    async open() {
      const url = await (await sharedCluster()).createDatabase();
      const connect = () => PostgresStore.connect(url, { poolSize: 2 });
      return { store: await connect(), reopen: connect };
    },
  },
];

/** A tracker on `store`'s database, with `tally` writing hook events as the fold does. */
/** What a sessions test gets. */
export interface Tracked {
  tracker: SessionTracker;
  store: EventStore;
  tally(events: StoredEvent[]): Promise<void>;
  /** Opens the same database again (another replica, or a restart), closed after the test. */
  reopen(): Promise<{ store: EventStore; tracker: SessionTracker }>;
}

async function tracked(store: EventStore): Promise<SessionTracker> {
  const tracker = new SessionTracker(store.db, { prune: false });
  await tracker.ready;
  return tracker;
}

/** Registers `run` against every backend. */
export function sessionsTest(
  name: string,
  run: (t: Tracked) => Promise<void>,
): void {
  for (const backend of BACKENDS) {
    Deno.test({
      name: `sessions ${backend.name} - ${name}`,
      ignore: backend.ignore,
      async fn() {
        const { store, reopen } = await backend.open();
        const opened: EventStore[] = [store];
        try {
          const tracker = await tracked(store);
          await run({
            tracker,
            store,
            tally: (events) => store.db.write(() => tallyTx(events)),
            reopen: async () => {
              const again = await reopen();
              opened.push(again);
              return { store: again, tracker: await tracked(again) };
            },
          });
        } finally {
          for (const s of opened) await s.close();
        }
      },
    });
  }
}

/** Asserts two amounts are equal to a billionth. */
export function close(actual: number, expected: number): void {
  assert.ok(
    Math.abs(actual - expected) < 1e-9,
    `${actual} is not ${expected}`,
  );
}

/** A stored hook event of the fixture session. */
export function hook(
  id: number,
  type: string,
  timestamp: number,
  payload: Record<string, unknown> = {},
  priority: 0 | 1 = 0,
): StoredEvent {
  return {
    id,
    source_app: "repo-a",
    session_id: SESSION_ID,
    hook_event_type: type,
    payload,
    timestamp,
    received_at: timestamp,
    priority,
  };
}
