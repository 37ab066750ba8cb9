/**
 * Installs the hookwatch sender as a Claude Code hook for every core event type: for one
 * project (`--project DIR`: its `.claude/settings.local.json`) or for every project (`--global`:
 * `~/.claude/settings.json`). One of the two is required; `deno task` runs in the hookwatch
 * checkout, so a default would install into hookwatch itself.
 *
 * A project install goes to `settings.local.json`, Claude Code's per-user project settings,
 * because the hook command names this machine's hookwatch checkout and Deno binary: that must
 * not land in `settings.json`, which teams commit. Hooks an older installer put in the
 * project's `settings.json` are moved out of it (and an uninstall removes them there too).
 *
 * The merge itself is `settings.ts`'s; this module reads and writes the files (atomically; the
 * file as it was before the first install is kept beside it as `*.hookwatch-backup`, and an
 * uninstall that leaves the settings equal to it restores its bytes, so install + uninstall is
 * byte-identical) and asks the server (`preflight.ts`) whether the hooks will get through.
 *
 * With `--decisions`, `PermissionRequest` gets an `http` hook on `/hooks/<app>/decide`, so a
 * person can answer it from the dashboard.
 *
 * @module
 */
import { createTwoFilesPatch } from "diff";
import { parseArgs } from "node:util";
import { basename, resolve } from "node:path";
import { CORE_HOOK_TYPES } from "../common/classify.ts";
import { DEFAULT_SERVER_URL } from "./config.ts";
import { checkServer } from "./preflight.ts";
import {
  decideHandler,
  DECISION_WAIT_S,
  FRONT_PATH,
  hasOurs,
  hookCommand,
  InstallError,
  type Json,
  planInstall,
  planUninstall,
} from "./settings.ts";

/** Suffix of the backup kept beside the settings file. */
export const BACKUP_SUFFIX = ".hookwatch-backup";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
async function readOrNull(path: string): Promise<string | null> {
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

/** A planned or applied change to one settings file. */
export interface Change {
  path: string;
  before: string | null;
  /** Null: the file is (to be) removed. */
  after: string | null;
  changed: boolean;
}

/** Installs (or with `dryRun` only plans) hookwatch's hooks in the settings file at `path`. */
export async function install(
  path: string,
  command: string,
  { dryRun = false, decide }: { dryRun?: boolean; decide?: Json } = {},
): Promise<Change> {
  const before = await readOrNull(path);
  const after = planInstall(
    before,
    command,
    CORE_HOOK_TYPES,
    path,
    decide ? { PermissionRequest: decide } : {},
  );
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
export async function uninstall(
  path: string,
  { dryRun = false } = {},
): Promise<Change> {
  const before = await readOrNull(path);
  if (before === null) return { path, before, after: null, changed: false };
  const backup = await readOrNull(path + BACKUP_SUFFIX);
  const after = planUninstall(before, backup, path);
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

/** Where to install: one project, or every project. */
export interface Target {
  global?: boolean;
  project?: string;
}

/**
 * The settings file for the target: `~/.claude/settings.json` with `global`, else the
 * project's `.claude/settings.local.json`.
 *
 * @throws {InstallError} without a target, or with both.
 */
export function settingsPath(
  target: Target,
  env: (name: string) => string | undefined,
): string {
  if (target.global && target.project !== undefined) {
    throw new InstallError("--project and --global: choose one");
  }
  if (target.global) {
    const home = env("HOME") ?? env("USERPROFILE");
    if (!home) throw new InstallError("--global needs HOME to be set");
    return `${home}/.claude/settings.json`;
  }
  if (target.project === undefined) {
    throw new InstallError(
      "say where: --project DIR (that project's .claude/settings.local.json) or " +
        "--global (~/.claude/settings.json, every project)",
    );
  }
  return `${target.project.replace(/\/+$/, "")}/.claude/settings.local.json`;
}

/** Where hooks are found that hookwatch wrote into a project's committed `settings.json`. */
function legacyPath(target: Target): string | null {
  return target.project === undefined
    ? null
    : `${target.project.replace(/\/+$/, "")}/.claude/settings.json`;
}

/** `HOOKWATCH_URL`, else hookwatch's own port on this machine (`PORT`, else 4000). */
export function defaultServerUrl(
  env: (name: string) => string | undefined,
): string {
  const explicit = env("HOOKWATCH_URL");
  if (explicit) return explicit;
  const port = Number(env("PORT"));
  return Number.isInteger(port) && port > 0 && port < 65536
    ? `http://127.0.0.1:${port}`
    : DEFAULT_SERVER_URL;
}

const USAGE =
  `usage: hookwatch-hook install|uninstall --project DIR | --global [options]
  --project DIR       that project: its .claude/settings.local.json (per-user, not committed)
  --global            every project: ~/.claude/settings.json
  --dry-run           print the change as a diff; write nothing
  --source-app NAME   fixed source_app (default: the git repository name of the hook's cwd)
  --server-url URL    hookwatch's address (default: HOOKWATCH_URL, else
                      http://127.0.0.1:$PORT, else http://127.0.0.1:4000)
  --add-chat          attach the transcript to each event
  --command CMD       run CMD as the hook instead of this sender
  --decisions         also an http PermissionRequest hook: a person allows or denies from the
                      dashboard (hookwatch needs HOOKWATCH_DECISIONS=on)
  --decision-wait S   seconds hookwatch holds a permission request (default 50)
The installer asks the server's /health; set HOOKWATCH_TOKEN (and export it where the agent
runs) when hookwatch has one.
`;

/** The compiled binary carries `hook.sh`; its hooks run a copy written beside the binary. */
async function frontForBinary(): Promise<string> {
  const path = `${Deno.execPath()}.sh`;
  await Deno.writeTextFile(path, await Deno.readTextFile(FRONT_PATH), {
    mode: 0o755,
  });
  return path;
}

function installed(change: Change, backup: boolean): string {
  if (!change.changed) {
    return `hookwatch hooks already installed in ${change.path}; nothing changed`;
  }
  const kept = backup ? `${change.path}${BACKUP_SUFFIX}` : null;
  if (hasOurs(change.before, change.path)) {
    return `replaced hookwatch's hooks in ${change.path}` +
      (kept ? ` (the file as it was before hookwatch: ${kept})` : "");
  }
  return `installed hookwatch hooks for ${CORE_HOOK_TYPES.length} events in ${change.path}` +
    (change.before === null
      ? " (a new file)"
      : kept
      ? ` (the file as it was: ${kept})`
      : "");
}

function removed(change: Change): string {
  if (!change.changed) {
    return `no hookwatch hooks in ${change.path}; nothing changed`;
  }
  return change.after === null
    ? `removed hookwatch hooks: ${change.path} did not exist before, so it is gone again`
    : `removed hookwatch hooks from ${change.path}`;
}

/** A hint when a project's `.gitignore` does not mention `settings.local.json`. */
async function gitignoreHint(project: string): Promise<string | null> {
  if (!await exists(`${project}/.git`)) return null;
  for (
    const file of [`${project}/.gitignore`, `${project}/.claude/.gitignore`]
  ) {
    const text = await Deno.readTextFile(file).catch(() => "");
    if (text.includes("settings.local.json")) return null;
  }
  return "note: .claude/settings.local.json holds this machine's paths; keep it out of git " +
    "(add it to .gitignore if your repository does not ignore it yet)";
}

/**
 * The installer's command line: `install` or `uninstall`, then a target and options. Returns
 * the exit code: 0 done (also when the server does not answer yet: that is a warning), 1 a
 * settings file hookwatch cannot change, 2 a usage error.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        global: { type: "boolean" },
        project: { type: "string" },
        "dry-run": { type: "boolean" },
        "source-app": { type: "string" },
        "server-url": { type: "string" },
        "add-chat": { type: "boolean" },
        command: { type: "string" },
        decisions: { type: "boolean" },
        "decision-wait": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (values.help || (action !== "install" && action !== "uninstall")) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const env = (name: string) => Deno.env.get(name);
  // `deno task` runs in the hookwatch checkout; a relative DIR means where it was typed.
  const project = values.project === undefined
    ? undefined
    : resolve(env("INIT_CWD") || Deno.cwd(), values.project);
  const target = { global: values.global, project };
  let path: string;
  try {
    path = settingsPath(target, env);
  } catch (error) {
    console.error(
      `hookwatch ${action}: ${(error as Error).message}\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    const dryRun = values["dry-run"] ?? false;
    const serverUrl = values["server-url"] ?? defaultServerUrl(env);
    // The default stays out of the command, so HOOKWATCH_URL where the agent runs still counts.
    const bake = values["server-url"] !== undefined ||
      serverUrl !== DEFAULT_SERVER_URL;
    const waitS = Number(values["decision-wait"] ?? DECISION_WAIT_S);
    if (!Number.isInteger(waitS) || waitS < 1 || waitS > 3600) {
      throw new InstallError("--decision-wait must be 1 to 3600 seconds");
    }
    const decide = values.decisions
      ? decideHandler(
        serverUrl,
        values["source-app"] ??
          (values.global ? "claude-code" : basename(project!)),
        waitS,
      )
      : undefined;
    // Hooks an earlier installer wrote into the committed settings.json move out of it (read
    // first: a file hookwatch cannot parse stops the install before anything is written).
    const legacy = legacyPath(target);
    const moving = legacy !== null && hasOurs(await readOrNull(legacy), legacy);
    const report = (change: Change, message: string) =>
      console.log(dryRun && change.changed ? diffOf(change) : message);
    if (action === "install") {
      const change = await install(
        path,
        values.command ?? hookCommand({
          binary: Deno.build.standalone ? Deno.execPath() : undefined,
          front: Deno.build.standalone ? await frontForBinary() : undefined,
          deno: Deno.execPath(),
          sourceApp: values["source-app"],
          serverUrl: bake ? serverUrl : undefined,
          addChat: values["add-chat"],
        }),
        { dryRun, decide },
      );
      report(change, installed(change, await exists(path + BACKUP_SUFFIX)));
    } else {
      const change = await uninstall(path, { dryRun });
      report(change, removed(change));
    }
    if (legacy && moving) {
      const old = await uninstall(legacy, { dryRun });
      const why =
        "project hooks live in settings.local.json, not in the committed settings.json";
      report(old, `${removed(old)}: ${why}`);
    }
    if (action === "uninstall") return 0;
    console.log(
      bake
        ? `the hooks send to ${serverUrl}`
        : `the hooks send to HOOKWATCH_URL where the agent runs, else ${DEFAULT_SERVER_URL}`,
    );
    const hint = project ? await gitignoreHint(project) : null;
    if (hint) console.log(hint);
    const token = env("HOOKWATCH_TOKEN") || undefined;
    for (const warning of await checkServer(serverUrl, token)) {
      console.error(`warning: ${warning}`);
    }
    return 0;
  } catch (error) {
    console.error(
      `hookwatch ${action}: ${
        error instanceof InstallError ? error.message : (error as Error).stack
      }`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
