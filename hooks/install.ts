/**
 * Installs the hookwatch sender as a Claude Code hook for every core event type, in a
 * project's `.claude/settings.json` or (with `--global`) `~/.claude/settings.json`.
 *
 * Merging is by structure: other hooks and settings are kept, hookwatch's own entries are
 * recognised by the `# hookwatch` comment that ends their command, a second install changes
 * nothing, and an uninstall removes exactly those entries. The file as it was before the first
 * install is kept beside it as `settings.json.hookwatch-backup`; when an uninstall leaves the
 * settings equal to it, the backup's bytes are restored, so install + uninstall is
 * byte-identical.
 *
 * Every hook is a command hook running `hook.sh`, which writes the hook's input to the spool's
 * inbox in a few milliseconds and leaves delivery to a detached sender. Most are async, so
 * Claude Code does not wait even those milliseconds. Stop and SubagentStop are synchronous:
 * Claude Code (2.1.328, print mode) sends SIGTERM to the process group of every async hook
 * still running when a turn ends, and Stop starts only 3–20 ms before that, sometimes before
 * the shells have started; it never cancels a synchronous hook. The command ignores SIGTERM
 * from its first word on, so a cancelled async hook still finishes its write. SessionStart
 * (which has no `http` hooks) is covered like the rest.
 With `--decisions`, `PermissionRequest` gets an `http` hook on `/hooks/<app>/decide`
 * instead, so a person can answer it from the dashboard.
 *
 * @module
 */
import { createTwoFilesPatch } from "diff";
import { isDeepStrictEqual, parseArgs } from "node:util";
import { basename, resolve } from "node:path";
import { CORE_HOOK_TYPES } from "../common/classify.ts";

/** Ends the command of every hook hookwatch installs; how uninstall finds them. */
export const MARKER = "# hookwatch";
/** Suffix of the backup kept beside the settings file. */
export const BACKUP_SUFFIX = ".hookwatch-backup";
/** Seconds Claude Code lets one hook run before killing it (the sender's own bound is lower). */
const HOOK_TIMEOUT_S = 10;
/** Events whose hook runs synchronously: they come as a turn ends, when async hooks are cancelled. */
export const SYNC_EVENTS: ReadonlySet<string> = new Set([
  "Stop",
  "SubagentStop",
]);
/** Set before the hook's own shell starts: an ignored signal stays ignored across `exec`. */
const IGNORE_TERM = "trap '' TERM INT HUP;";

/** A settings file hookwatch cannot safely change; the message says why. */
export class InstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstallError";
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Recognises the http `PermissionRequest` hook hookwatch installs (`--decisions`) by its URL. */
const DECIDE_URL = /\/hooks\/[^/?#]+\/decide(\?[^#]*)?$/;

/** Longest a held permission request waits by default, seconds (the server's default too). */
export const DECISION_WAIT_S = 50;

/** Whether a hook handler from a settings file is one hookwatch installed. */
export function isOurs(handler: unknown): boolean {
  if (!isObject(handler)) return false;
  if (handler.type === "http") {
    return typeof handler.url === "string" && DECIDE_URL.test(handler.url);
  }
  return handler.type === "command" &&
    typeof handler.command === "string" &&
    handler.command.trimEnd().endsWith(MARKER);
}

/**
 * The http `PermissionRequest` handler: hookwatch holds it up to `waitS` seconds for a person's
 * decision; Claude Code's own bound (`timeout`) is 10 s above, so the wait always ends first.
 */
export function decideHandler(
  serverUrl: string,
  sourceApp: string,
  waitS: number = DECISION_WAIT_S,
): Json {
  const base = serverUrl.replace(/\/+$/, "");
  return {
    type: "http",
    url: `${base}/hooks/${encodeURIComponent(sourceApp)}/decide?wait=${waitS}`,
    headers: { Authorization: "Bearer $HOOKWATCH_TOKEN" },
    allowedEnvVars: ["HOOKWATCH_TOKEN"],
    timeout: waitS + 10,
  };
}

/** The hook handler entry hookwatch writes for `command` on `event`. */
export function hookHandler(command: string, event = ""): Json {
  return {
    type: "command",
    command: `${command} ${MARKER}`,
    async: !SYNC_EVENTS.has(event),
    timeout: HOOK_TIMEOUT_S,
  };
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value)
    ? value
    : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** What the installed hook runs. */
export interface CommandOptions {
  /** The compiled `hookwatch-hook`'s path; else the sender runs under `deno`. */
  binary?: string;
  deno?: string;
  /** The `hook.sh` front; default the one beside this module. */
  front?: string;
  sourceApp?: string;
  serverUrl?: string;
  addChat?: boolean;
}

/** The hook front beside this module; the compiled binary carries it (`--include`). */
export const FRONT_PATH = new URL("./hook.sh", import.meta.url).pathname;

/**
 * Builds the shell command of the installed hook: `sh hook.sh` with the Deno binary (which runs
 * `send_event.ts` beside the front, with permissions scoped to the server, the spool and the
 * transcripts) or the compiled sender.
 */
export function hookCommand(options: CommandOptions): string {
  const front = options.front ?? FRONT_PATH;
  const words = options.binary
    ? ["sh", front, "--binary", options.binary]
    : ["sh", front, options.deno ?? "deno"];
  if (options.sourceApp) words.push("--source-app", options.sourceApp);
  if (options.serverUrl) words.push("--server-url", options.serverUrl);
  if (options.addChat) words.push("--add-chat");
  return `${IGNORE_TERM} ${words.map(shellQuote).join(" ")}`;
}

function parseSettings(text: string | null, path: string): Json {
  if (text === null || text.trim() === "") return {};
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (error) {
    throw new InstallError(
      `${path} is not valid JSON (${
        (error as Error).message
      }); fix it first, nothing was changed`,
    );
  }
  if (!isObject(settings)) {
    throw new InstallError(`${path} does not hold a JSON object`);
  }
  if (settings.hooks !== undefined && !isObject(settings.hooks)) {
    throw new InstallError(`${path}: "hooks" is not an object`);
  }
  for (const [event, groups] of Object.entries(settings.hooks ?? {})) {
    if (!Array.isArray(groups)) {
      throw new InstallError(`${path}: "hooks.${event}" is not an array`);
    }
  }
  return settings;
}

function format(settings: Json, like: string | null): string {
  const indent = like === null ? "  " : /^([ \t]+)\S/m.exec(like)?.[1] ?? "  ";
  const newline = like === null || like.endsWith("\n") ? "\n" : "";
  return JSON.stringify(settings, null, indent) + newline;
}

/** Removes hookwatch's handlers from an event's matcher groups, and groups left empty by it. */
function withoutOurs(groups: unknown[]): unknown[] {
  const kept: unknown[] = [];
  for (const group of groups) {
    if (!isObject(group) || !Array.isArray(group.hooks)) {
      kept.push(group);
      continue;
    }
    const handlers = group.hooks.filter((handler) => !isOurs(handler));
    if (handlers.length === group.hooks.length) kept.push(group);
    else if (handlers.length > 0) kept.push({ ...group, hooks: handlers });
  }
  return kept;
}

function ourHandlers(groups: unknown[]): unknown[] {
  return groups.flatMap((group) =>
    isObject(group) && Array.isArray(group.hooks)
      ? group.hooks.filter(isOurs)
      : []
  );
}

/** Whether a settings text holds any hookwatch hook. */
export function hasOurs(text: string | null, path = "settings"): boolean {
  const hooks = parseSettings(text, path).hooks as Json | undefined;
  return Object.values(hooks ?? {}).some((groups) =>
    ourHandlers(groups as unknown[]).length > 0
  );
}

/**
 * The settings text with hookwatch's hook for each of `events`; the same text when they are
 * all there already.
 *
 * @throws {InstallError} when the text is not a settings object.
 */
export function planInstall(
  text: string | null,
  command: string,
  events: readonly string[] = CORE_HOOK_TYPES,
  path = "settings",
  handlers: Record<string, Json> = {},
): string {
  const settings = parseSettings(text, path);
  const before = structuredClone(settings);
  const hooks = (settings.hooks ?? {}) as Record<string, unknown[]>;
  for (const event of new Set([...events, ...Object.keys(handlers)])) {
    const handler = handlers[event] ?? hookHandler(command, event);
    const groups = hooks[event] ?? [];
    const ours = ourHandlers(groups);
    if (ours.length === 1 && isDeepStrictEqual(ours[0], handler)) continue;
    hooks[event] = [...withoutOurs(groups), { hooks: [handler] }];
  }
  settings.hooks = hooks;
  if (text !== null && isDeepStrictEqual(before, settings)) return text;
  return format(settings, text);
}

/**
 * The settings text without hookwatch's hooks: the backup's exact bytes when what is left
 * equals it, null when the file should not exist (it did not before the install).
 */
export function planUninstall(
  text: string,
  backup: string | null,
  path = "settings",
): string | null {
  const settings = parseSettings(text, path);
  if (!hasOurs(text, path)) return text;
  let original: Json | null = null;
  try {
    original = backup === null ? null : parseSettings(backup, path);
  } catch {
    original = null;
  }
  const hooks = settings.hooks as Record<string, unknown[]>;
  const originalHooks = isObject(original?.hooks) ? original.hooks : {};
  for (const [event, groups] of Object.entries(hooks)) {
    const kept = withoutOurs(groups);
    // An event list the install created goes; one the user had (even empty) stays.
    if (kept.length === 0 && !(event in originalHooks)) delete hooks[event];
    else hooks[event] = kept;
  }
  if (Object.keys(hooks).length === 0 && !(original && "hooks" in original)) {
    delete settings.hooks;
  }
  if (backup !== null && original && isDeepStrictEqual(settings, original)) {
    return backup;
  }
  if (backup === null && Object.keys(settings).length === 0) return null;
  return format(settings, text);
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

/** Which settings file: `~/.claude/settings.json` with `global`, else the project's. */
export function settingsPath(
  options: { global?: boolean; project?: string },
  env: (name: string) => string | undefined,
  cwd: string,
): string {
  if (options.global) {
    const home = env("HOME") ?? env("USERPROFILE");
    if (!home) throw new InstallError("--global needs HOME to be set");
    return `${home}/.claude/settings.json`;
  }
  const project = options.project ?? env("INIT_CWD") ?? cwd;
  return `${project.replace(/\/+$/, "")}/.claude/settings.json`;
}

const USAGE = `usage: hookwatch-hook install|uninstall [options]
  --global            ~/.claude/settings.json instead of the project's .claude/settings.json
  --project DIR       the project (default: the current directory)
  --dry-run           print the change as a diff; write nothing
  --source-app NAME   fixed source_app (default: the git repository name of the hook's cwd)
  --server-url URL    hookwatch's address (default: HOOKWATCH_URL, else http://127.0.0.1:4000)
  --add-chat          attach the transcript to each event
  --command CMD       run CMD as the hook instead of this sender
  --decisions         also an http PermissionRequest hook: a person allows or denies from the
                      dashboard (hookwatch needs HOOKWATCH_DECISIONS=on)
  --decision-wait S   seconds hookwatch holds a permission request (default 50)
`;

/** The compiled binary carries `hook.sh`; its hooks run a copy written beside the binary. */
async function frontForBinary(): Promise<string> {
  const path = `${Deno.execPath()}.sh`;
  await Deno.writeTextFile(path, await Deno.readTextFile(FRONT_PATH), {
    mode: 0o755,
  });
  return path;
}

/**
 * The installer's command line: `install` or `uninstall`, then options. Returns the exit code.
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
  try {
    const path = settingsPath(
      { global: values.global, project: values.project },
      (name) => Deno.env.get(name),
      Deno.cwd(),
    );
    const dryRun = values["dry-run"] ?? false;
    const waitS = Number(values["decision-wait"] ?? DECISION_WAIT_S);
    if (!Number.isInteger(waitS) || waitS < 1 || waitS > 3600) {
      throw new InstallError("--decision-wait must be 1 to 3600 seconds");
    }
    const decide = values.decisions
      ? decideHandler(
        values["server-url"] ?? Deno.env.get("HOOKWATCH_URL") ??
          "http://127.0.0.1:4000",
        values["source-app"] ??
          (values.global ? "claude-code" : basename(
            values.project ? resolve(values.project) : Deno.cwd(),
          )),
        waitS,
      )
      : undefined;
    const change = action === "install"
      ? await install(
        path,
        values.command ?? hookCommand({
          binary: Deno.build.standalone ? Deno.execPath() : undefined,
          front: Deno.build.standalone ? await frontForBinary() : undefined,
          deno: Deno.execPath(),
          sourceApp: values["source-app"],
          serverUrl: values["server-url"],
          addChat: values["add-chat"],
        }),
        { dryRun, decide },
      )
      : await uninstall(path, { dryRun });
    if (!change.changed) {
      console.log(
        action === "install"
          ? `hookwatch hooks already installed in ${path}; nothing changed`
          : `no hookwatch hooks in ${path}; nothing changed`,
      );
    } else if (dryRun) {
      console.log(diffOf(change));
    } else if (action === "install") {
      console.log(
        `installed hookwatch hooks for ${CORE_HOOK_TYPES.length} events in ${path}` +
          (change.before === null ? "" : ` (backup: ${path}${BACKUP_SUFFIX})`),
      );
    } else {
      console.log(
        change.after === null
          ? `removed hookwatch hooks: ${path} did not exist before, so it is gone again`
          : `removed hookwatch hooks from ${path}`,
      );
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
