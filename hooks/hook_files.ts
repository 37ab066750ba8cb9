/**
 * Reading and writing one agent's hook file for the installer: the planned change (text before
 * and after, from `settings.ts`), written atomically, with the file as it was before
 * hookwatch's first install kept beside it (`*.hookwatch-backup`; none when install created
 * it). An uninstall that leaves the file equal to its backup writes back the backup's bytes, and
 * removes a file install created, so install + uninstall is byte-identical. Any agent's file.
 *
 * @module
 */
import { createTwoFilesPatch } from "diff";
import {
  type FileShape,
  hasOurs,
  type Json,
  NESTED,
  planHooks,
  planUninstall,
} from "./settings.ts";

/** Suffix of the backup kept beside the hook file. */
export const BACKUP_SUFFIX = ".hookwatch-backup";

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** A file's text, or null when there is none. */
export async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const mode = (await Deno.stat(path).catch(() => null))?.mode ?? 0o644;
  const tmp = `${path}.hookwatch-tmp`;
  await Deno.writeTextFile(tmp, text, { mode: mode & 0o777 });
  await Deno.rename(tmp, path);
}

/** A planned or applied change to one hook file. */
export interface Change {
  path: string;
  before: string | null;
  /** Null: the file is (to be) removed. */
  after: string | null;
  changed: boolean;
}

/**
 * Writes (or with `dryRun` only plans) hookwatch's handler for each event of `wanted` into the
 * hook file at `path`, keeping everything else in it.
 */
export async function installHooks(
  path: string,
  wanted: Readonly<Record<string, Json>>,
  { dryRun = false, shape = NESTED }: { dryRun?: boolean; shape?: FileShape } =
    {},
): Promise<Change> {
  const before = await readOrNull(path);
  const after = planHooks(before, wanted, path, shape);
  const change = { path, before, after, changed: after !== before };
  if (dryRun || !change.changed) return change;
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  // The backup is the file as it was before hookwatch: a re-install keeps it.
  if (!hasOurs(before, path)) {
    if (before === null) {
      await Deno.remove(path + BACKUP_SUFFIX).catch(() => {});
    } else {
      await writeAtomically(path + BACKUP_SUFFIX, before);
    }
  }
  await writeAtomically(path, after);
  return change;
}

/** Removes (or with `dryRun` only plans removing) exactly the hooks hookwatch installed. */
export async function uninstallHooks(
  path: string,
  { dryRun = false, shape = NESTED }: { dryRun?: boolean; shape?: FileShape } =
    {},
): Promise<Change> {
  const before = await readOrNull(path);
  if (before === null) return { path, before, after: null, changed: false };
  const backup = await readOrNull(path + BACKUP_SUFFIX);
  const after = planUninstall(before, backup, path, shape);
  const change = { path, before, after, changed: after !== before };
  if (dryRun || !change.changed) return change;
  if (after === null) await Deno.remove(path);
  else await writeAtomically(path, after);
  return change;
}

/** A unified diff of a change, for `--dry-run`. */
export function diffOf(change: Change): string {
  return createTwoFilesPatch(
    change.before === null ? "/dev/null" : change.path,
    change.after === null ? "/dev/null" : change.path,
    change.before ?? "",
    change.after ?? "",
  );
}

/** What install did, in words; `what` counts the events (`12 events`). */
export function installed(
  change: Change,
  backup: boolean,
  what: string,
): string {
  if (!change.changed) {
    return `hookwatch hooks already installed in ${change.path}; nothing changed`;
  }
  const kept = backup ? `${change.path}${BACKUP_SUFFIX}` : null;
  if (hasOurs(change.before, change.path)) {
    return `replaced hookwatch's hooks in ${change.path}` +
      (kept ? ` (the file as it was before hookwatch: ${kept})` : "");
  }
  return `installed hookwatch hooks for ${what} in ${change.path}` +
    (change.before === null
      ? " (a new file)"
      : kept
      ? ` (the file as it was: ${kept})`
      : "");
}

/** What uninstall did, in words. */
export function removed(change: Change): string {
  if (!change.changed) {
    return `no hookwatch hooks in ${change.path}; nothing changed`;
  }
  return change.after === null
    ? `removed hookwatch hooks: ${change.path} did not exist before, so it is gone again`
    : `removed hookwatch hooks from ${change.path}`;
}

/**
 * A hint when a project's `.gitignore` does not mention `file` (a path inside the project):
 * the installed hooks name this machine's hookwatch checkout and Deno.
 */
export async function gitignoreHint(
  project: string,
  file: string,
): Promise<string | null> {
  if (!await exists(`${project}/.git`)) return null;
  const name = file.slice(file.lastIndexOf("/") + 1);
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
  for (
    const ignore of [
      `${project}/.gitignore`,
      ...(dir ? [`${project}/${dir}/.gitignore`] : []),
    ]
  ) {
    const text = await Deno.readTextFile(ignore).catch(() => "");
    if (text.includes(name)) return null;
  }
  return `note: ${file} holds this machine's paths; keep it out of git ` +
    "(add it to .gitignore if your repository does not ignore it yet)";
}
