/**
 * Chooses the store from `DATABASE_URL`.
 *
 * @module
 */
import { ConfigError } from "../base/config.ts";
import type { EventStore } from "./store.ts";
import { SqliteStore } from "./sqlite_store.ts";

/** The SQLite file a `sqlite:` URL (or a plain `.db` path) names. */
export function sqlitePath(databaseUrl: string): string | null {
  if (databaseUrl.startsWith("sqlite:")) {
    return databaseUrl.slice("sqlite:".length);
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return null;
  return databaseUrl;
}

/**
 * Opens the store `databaseUrl` names: `sqlite:<path>` (the default), or `postgres://…`.
 *
 * @throws {ConfigError} when the database cannot be opened.
 */
export async function openStore(databaseUrl: string): Promise<EventStore> {
  const path = sqlitePath(databaseUrl);
  try {
    if (path !== null) {
      return SqliteStore.open(path, { checkpointInWorker: true });
    }
    const { PostgresStore } = await import("./postgres_store.ts");
    return await PostgresStore.connect(databaseUrl);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      "DATABASE_URL",
      `cannot open the database: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
}
