/**
 * `deno task restore PATH`: puts a backup made by `deno task backup` in place of the SQLite
 * database `DATABASE_URL` names. hookwatch must be stopped; the database it replaces is kept
 * beside it as `<name>.before-restore-<time>`. PostgreSQL: use `pg_restore` (docs/RUNBOOK.md).
 *
 * @module
 */
import { ConfigError, loadConfig } from "../lib/base/config.ts";
import { sqlitePath } from "../lib/store/open_store.ts";
import { BackupError, restoreSqlite } from "../lib/store/sqlite_backup.ts";

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0].startsWith("-")) {
    console.error(
      "usage: deno task restore PATH   (with hookwatch stopped; DATABASE_URL names the database)",
    );
    return 2;
  }
  let target;
  try {
    target = sqlitePath(loadConfig().databaseUrl);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`restore: ${error.message}`);
    return 1;
  }
  if (target === null) {
    console.error(
      "restore: DATABASE_URL is PostgreSQL: use pg_restore (see docs/RUNBOOK.md, Backup and restore)",
    );
    return 2;
  }
  try {
    const restored = await restoreSqlite(args[0], target);
    console.log(
      `restore: ${
        args[0]
      } → ${target}: ${restored.events} events (ids up to ${restored.maxId})${
        restored.previous
          ? `; the previous database is kept as ${restored.previous}`
          : ""
      }`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(`restore: ${error.message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
