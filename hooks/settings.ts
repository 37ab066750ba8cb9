/**
 * hookwatch's entries in a Claude Code settings file, text in and text out: which handlers are
 * hookwatch's (the `# hookwatch` comment that ends their command, or the `/decide` URL), the
 * handler and its command (`sh hook.sh …`) written for each event, and the planned text of an install or an uninstall. Merging
 * is by structure: other hooks and settings are kept, a second install changes nothing, an
 * uninstall removes exactly hookwatch's entries and, when nothing else changed, gives back the
 * backup's exact bytes. No file is touched here; `install.ts` reads and writes.
 *
 * Every hook is a command hook running `hook.sh`, which writes the hook's input to the spool's
 * inbox in a few milliseconds and leaves delivery to a detached sender. Most are async, so
 * Claude Code does not wait even those milliseconds. Stop and SubagentStop are synchronous:
 * Claude Code (2.1.328, print mode) sends SIGTERM to the process group of every async hook
 * still running when a turn ends, and Stop starts only 3–20 ms before that, sometimes before
 * the shells have started; it never cancels a synchronous hook. The command ignores SIGTERM
 * from its first word on, so a cancelled async hook still finishes its write.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { CORE_HOOK_TYPES } from "../common/classify.ts";
import { DEFAULT_TOKEN_ENV } from "./config.ts";

/** Ends the command of every hook hookwatch installs; how uninstall finds them. */
export const MARKER = "# hookwatch";
/** Seconds Claude Code lets one hook run before killing it (the sender's own bound is lower). */
const HOOK_TIMEOUT_S = 10;
/** Set before the hook's own shell starts: an ignored signal stays ignored across `exec`. */
const IGNORE_TERM = "trap '' TERM INT HUP;";
/** Events whose hook runs synchronously: they come as a turn ends, when async hooks are cancelled. */
export const SYNC_EVENTS: ReadonlySet<string> = new Set([
  "Stop",
  "SubagentStop",
]);
/** A settings file hookwatch cannot safely change; the message says why. */
export class InstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstallError";
  }
}

/** A settings object, or one of its parts. */
export type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Recognises the http `PermissionRequest` hook hookwatch installs (`--decisions`) by its URL. */
const DECIDE_URL = /\/hooks\/[^/?#]+\/decide(\?[^#]*)?$/;

/** Longest a held permission request waits by default, seconds (the server's default too). */
export const DECISION_WAIT_S = 50;

/**
 * Whether a hook handler from a settings file is one hookwatch installed: a command (`command`,
 * or Copilot's `bash`) ending with {@linkcode MARKER}, or the http `/decide` hook.
 */
export function isOurs(handler: unknown): boolean {
  if (!isObject(handler)) return false;
  if (handler.type === "http") {
    return typeof handler.url === "string" && DECIDE_URL.test(handler.url);
  }
  const command = handler.command ?? handler.bash;
  return handler.type === "command" && typeof command === "string" &&
    command.trimEnd().endsWith(MARKER);
}

/**
 * How an agent's hook file holds its hooks: `nested` (Claude Code, Codex, Gemini CLI): each
 * event a list of matcher groups `{matcher?, hooks: [handler]}`; `flat` (Copilot CLI): each
 * event a list of handlers. `base`: the other top-level keys of a file the install creates
 * (Copilot's `version`).
 */
export interface FileShape {
  entries: "nested" | "flat";
  base?: Json;
}

/** Claude Code's settings files. */
export const NESTED: FileShape = Object.freeze({ entries: "nested" });

/**
 * The http `PermissionRequest` handler: hookwatch holds it up to `waitS` seconds for a person's
 * decision; Claude Code's own bound (`timeout`) is 10 s above, so the wait always ends first.
 * Claude Code sends the token from `tokenEnv` where it runs.
 */
export function decideHandler(
  serverUrl: string,
  sourceApp: string,
  waitS: number = DECISION_WAIT_S,
  tokenEnv = DEFAULT_TOKEN_ENV,
): Json {
  const base = serverUrl.replace(/\/+$/, "");
  return {
    type: "http",
    url: `${base}/hooks/${encodeURIComponent(sourceApp)}/decide?wait=${waitS}`,
    headers: { Authorization: `Bearer $${tokenEnv}` },
    allowedEnvVars: [tokenEnv],
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
  /** The agent whose hook it is (its stored name); none for Claude Code. */
  agent?: string;
  /** The event, for an agent whose inputs do not name it (Copilot's camelCase). */
  event?: string;
  /** Wait up to this many seconds for a person's decision and print the agent's answer. */
  decideWaitS?: number;
  /** The variable the token is read from where the agent runs (none: `HOOKWATCH_TOKEN`). */
  tokenEnv?: string;
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
  if (options.agent) words.push("--agent", options.agent);
  if (options.event) words.push("--event", options.event);
  if (options.decideWaitS) {
    words.push("--decide", "--wait", String(options.decideWaitS));
  }
  if (options.sourceApp) words.push("--source-app", options.sourceApp);
  if (options.serverUrl) words.push("--server-url", options.serverUrl);
  if (options.addChat) words.push("--add-chat");
  if (options.tokenEnv && options.tokenEnv !== DEFAULT_TOKEN_ENV) {
    words.push("--token-env", options.tokenEnv);
  }
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

/**
 * Removes hookwatch's handlers from an event's matcher groups, and groups left empty by it (and
 * hookwatch's handlers that stand alone, in a flat file).
 */
function withoutOurs(groups: unknown[]): unknown[] {
  const kept: unknown[] = [];
  for (const group of groups) {
    if (isOurs(group)) continue;
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
    isOurs(group)
      ? [group]
      : isObject(group) && Array.isArray(group.hooks)
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
  const wanted: Record<string, Json> = {};
  for (const event of new Set([...events, ...Object.keys(handlers)])) {
    wanted[event] = handlers[event] ?? hookHandler(command, event);
  }
  return planHooks(text, wanted, path);
}

/**
 * The hook file's text with hookwatch's handler for each event of `wanted` (and no other of
 * its own there); the same text when they are all there already. Any agent's file, by `shape`.
 *
 * @throws {InstallError} when the text is not a settings object.
 */
export function planHooks(
  text: string | null,
  wanted: Readonly<Record<string, Json>>,
  path = "settings",
  shape: FileShape = NESTED,
): string {
  const settings = parseSettings(text, path);
  const before = structuredClone(settings);
  const hooks = (settings.hooks ?? {}) as Record<string, unknown[]>;
  for (const [event, handler] of Object.entries(wanted)) {
    const groups = hooks[event] ?? [];
    const ours = ourHandlers(groups);
    if (ours.length === 1 && isDeepStrictEqual(ours[0], handler)) continue;
    hooks[event] = [
      ...withoutOurs(groups),
      shape.entries === "flat" ? handler : { hooks: [handler] },
    ];
  }
  if (text === null || text.trim() === "") {
    // A new file: its other keys first (Copilot's `version`), as the agent documents it.
    const fresh = { ...shape.base, ...settings, hooks };
    return format(fresh, text);
  }
  settings.hooks = hooks;
  if (isDeepStrictEqual(before, settings)) return text;
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
  shape: FileShape = NESTED,
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
  if (backup === null && isDeepStrictEqual(settings, shape.base ?? {})) {
    return null;
  }
  return format(settings, text);
}
