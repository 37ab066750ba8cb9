/**
 * `deno task archive:import FILE…`: loads archived events (`HOOKWATCH_ARCHIVE_DIR` files) into
 * the store `DATABASE_URL` names, with their ids. Idempotent: an event whose id or event_id is
 * already stored is skipped, so importing a file twice changes nothing. Each file is checked
 * whole before any of it is written.
 *
 * Load into a database of its own for an investigation (a running hookwatch's retention would
 * expire, and archive again, events this old):
 *
 * ```sh
 * DATABASE_URL=sqlite:./investigation.db deno task archive:import archive/events-priority-2026-12-01T*
 * RETENTION_PRIORITY=3650d RETENTION_REGULAR=3650d DATABASE_URL=sqlite:./investigation.db PORT=4001 deno task start
 * ```
 *
 * @module
 */
import { ConfigError, loadConfig } from "../lib/base/config.ts";
import { openStore } from "../lib/store/open_store.ts";
import { ArchiveFormatError, readArchive } from "../lib/store/archive_file.ts";
import { archiveSource } from "../lib/store/archive_sql.ts";
import type { FullRow } from "../lib/store/archive_sql.ts";

const BATCH = 1000;

async function main(files: string[]): Promise<number> {
  if (files.length === 0 || files.includes("--help")) {
    console.error(
      "usage: deno task archive:import FILE… (into the store DATABASE_URL names)",
    );
    return files.length === 0 ? 2 : 0;
  }
  let store;
  try {
    store = await openStore(loadConfig().databaseUrl);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`archive:import: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const source = archiveSource(store.db);
  let status = 0;
  try {
    for (const file of files) {
      try {
        let events = 0;
        for await (const _ of readArchive(file)) events++;
        let inserted = 0;
        let batch: FullRow[] = [];
        for await (const row of readArchive(file)) {
          batch.push(row);
          if (batch.length === BATCH) {
            inserted += await source.importRows(batch);
            batch = [];
          }
        }
        inserted += await source.importRows(batch);
        console.log(
          `${file}: ${events} events, ${inserted} imported, ${
            events - inserted
          } already stored`,
        );
      } catch (error) {
        status = 1;
        console.error(
          error instanceof ArchiveFormatError ||
            error instanceof Deno.errors.NotFound
            ? `archive:import: ${file}: nothing imported: ${error.message}`
            : `archive:import: ${file}: failed (run it again: imports are idempotent): ${error}`,
        );
      }
    }
  } finally {
    await store.close();
  }
  return status;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
