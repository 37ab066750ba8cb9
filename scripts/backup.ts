/**
 * `deno task backup PATH`: a consistent copy of the SQLite database `DATABASE_URL` names, taken
 * while hookwatch keeps running and ingesting. PostgreSQL: use `pg_dump` (docs/RUNBOOK.md).
 *
 * @module
 */
import { ConfigError, loadConfig } from "../lib/base/config.ts";
import { sqlitePath } from "../lib/store/open_store.ts";
import { BackupError, backupSqlite } from "../lib/store/sqlite_backup.ts";

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0].startsWith("-")) {
    console.error(
      "usage: deno task backup PATH   (DATABASE_URL names the database)",
    );
    return 2;
  }
  let source;
  try {
    source = sqlitePath(loadConfig().databaseUrl);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`backup: ${error.message}`);
    return 1;
  }
  if (source === null) {
    console.error(
      "backup: DATABASE_URL is PostgreSQL: use pg_dump --format=custom (see docs/RUNBOOK.md, Backup and restore)",
    );
    return 2;
  }
  const start = performance.now();
  try {
    const backup = await backupSqlite(source, args[0]);
    console.log(
      `backup: ${source} → ${
        args[0]
      }: ${backup.events} events (ids up to ${backup.maxId}), ${
        (backup.bytes / 1e6).toFixed(1)
      } MB in ${((performance.now() - start) / 1000).toFixed(2)} s`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(`backup: ${error.message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
