/**
 * Online backup and offline restore of the SQLite database (`deno task backup` / `restore`).
 *
 * - Backup is SQLite's online backup API into a temporary file next to the target, all pages in
 *   one step: one read transaction, so the copy is the database as of one commit while hookwatch
 *   keeps writing (WAL readers never block the writer; a step-wise copy would restart on every
 *   write). Then it is checked (`quick_check`), fsynced and renamed into place. (`VACUUM INTO`
 *   would need ATTACH, which Deno's `node:sqlite` allows only with all permissions.)
 * - Restore refuses while any process has the database open (it cannot take an exclusive lock),
 *   moves the current database and its WAL aside, and puts a checked copy of the backup in place.
 *
 * @module
 */
import { backup, DatabaseSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";

/** What a backup file holds. */
export interface BackupSummary {
  events: number;
  /** Highest event id, 0 when empty. */
  maxId: number;
  bytes: number;
}

/** A backup or restore that cannot be done; the message says why and what to do. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function syncFile(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    await file.sync();
  } finally {
    file.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/**
 * Checks that `path` is an intact hookwatch database and summarises it.
 *
 * @throws {BackupError} when it is not.
 */
export async function inspectBackup(path: string): Promise<BackupSummary> {
  if (!await exists(path)) throw new BackupError(`${path} does not exist`);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw new BackupError(`${path}: ${(error as Error).message}`);
  }
  try {
    const check = db.prepare("PRAGMA quick_check").get() as Record<
      string,
      string
    >;
    const verdict = Object.values(check)[0];
    if (verdict !== "ok") {
      throw new BackupError(`${path} is damaged: ${verdict}`);
    }
    const table = db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'",
    ).get();
    if (!table) {
      throw new BackupError(`${path} is not a hookwatch database (no events)`);
    }
    const row = db.prepare(
      "SELECT COUNT(*) AS events, COALESCE(MAX(id), 0) AS maxId FROM events",
    ).get() as { events: number; maxId: number };
    return { ...row, bytes: (await Deno.stat(path)).size };
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${path}: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Copies the live database at `source` to `target` (which must not exist) while it is in use.
 *
 * @throws {BackupError} when `source` is missing or `target` exists.
 */
export async function backupSqlite(
  source: string,
  target: string,
): Promise<BackupSummary> {
  if (!await exists(source)) {
    throw new BackupError(`the database ${source} does not exist`);
  }
  if (await exists(target)) {
    throw new BackupError(
      `${target} exists already: choose another name or remove it`,
    );
  }
  const temp = join(dirname(target), `.${basename(target)}.${Deno.pid}.tmp`);
  await Deno.mkdir(dirname(target), { recursive: true });
  const db = new DatabaseSync(source);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    await backup(db, temp, { rate: -1 });
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new BackupError(
      `copying ${source} failed: ${(error as Error).message}`,
    );
  } finally {
    db.close();
  }
  try {
    await syncFile(temp);
    const summary = await inspectBackup(temp);
    await Deno.rename(temp, target);
    await syncDir(dirname(target));
    return summary;
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** True when another process has `path` open (SQLite cannot get an exclusive lock on it). */
export function databaseInUse(path: string): boolean {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch {
    return false; // cannot be opened as a database, so nobody uses it as one
  }
  try {
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("ROLLBACK");
    return false;
  } catch (error) {
    return /locked|busy/i.test((error as Error).message);
  } finally {
    db.close();
  }
}

/** What {@linkcode restoreSqlite} did. */
export interface RestoreResult extends BackupSummary {
  /** Where the database that was replaced now is; null when there was none. */
  previous: string | null;
}

/**
 * Puts the backup at `backup` in place of the database at `target`, which must not be in use.
 * The current database (with its WAL) is kept as `<target>.before-restore-<time>`.
 *
 * @throws {BackupError} when the backup is not intact or the database is in use.
 */
export async function restoreSqlite(
  backup: string,
  target: string,
  now = new Date(),
): Promise<RestoreResult> {
  const summary = await inspectBackup(backup);
  if (await exists(target) && databaseInUse(target)) {
    throw new BackupError(
      `${target} is in use (is hookwatch running?): stop it, then restore`,
    );
  }
  await Deno.mkdir(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.restore.tmp`);
  await Deno.copyFile(backup, temp);
  await syncFile(temp);
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const aside = `${target}.before-restore-${stamp}`;
  let previous: string | null = null;
  // The WAL belongs to the database it sits beside: it moves with it, or it would be
  // replayed into the restored file. The shared-memory index is rebuilt on open.
  for (const suffix of ["", "-wal"]) {
    if (await exists(target + suffix)) {
      await Deno.rename(target + suffix, aside + suffix);
      if (suffix === "") previous = aside;
    }
  }
  await Deno.remove(`${target}-shm`).catch(() => {});
  await Deno.rename(temp, target);
  await syncDir(dirname(target));
  return { ...summary, previous };
}
