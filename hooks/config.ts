/**
 * The sender's interface with its surroundings: the command-line flags, what it reads from the
 * environment (server, bounds, spool directory) and its one channel for messages, stderr (which
 * `hook.sh` appends to `sender.log`). The bottom of the sender's modules: it imports nothing.
 *
 * @module
 */

/** Where events go when neither `--server-url` nor `HOOKWATCH_URL` says. */
export const DEFAULT_SERVER_URL = "http://127.0.0.1:4000";
/**
 * How long one event's POST may take before the event is spooled instead. The installed hooks
 * send from a detached process that nobody waits for, so this bounds only how long a hanging
 * server holds that process.
 */
export const DEFAULT_TIMEOUT_MS = 500;
/** The hard bound: the process exits 0 at this point whatever it is doing. */
export const DEFAULT_DEADLINE_MS = 5000;
/** Where the hooks find the token, unless installed with `--token-env NAME`. */
export const DEFAULT_TOKEN_ENV = "HOOKWATCH_TOKEN";
/** What `--token-env` may name: a shell variable. */
export const TOKEN_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The sender's command-line flags. */
export interface Flags {
  sourceApp?: string;
  serverUrl?: string;
  eventType?: string;
  addChat: boolean;
  /** Deliver the spool's inbox (`hook.sh` starts the sender so). */
  drain?: boolean;
  /** The run directory that marks this drain as the one for its server. */
  run?: string;
  /** The git repository name `hook.sh` found for the hook's directory. */
  repo?: string;
  /** The agent whose hook it is (its stored name, `codex` …); Claude Code when absent. */
  agent?: string;
  /** The event's name in the agent's words, for inputs that carry none (Copilot). */
  event?: string;
  /** Hold a permission request for a person's decision and print the agent's answer. */
  decide?: boolean;
  /** With `decide`: the longest wait, seconds. */
  wait?: string;
  /** The variable holding the token (`hook.sh --token-env`); else `HOOKWATCH_TOKEN`. */
  tokenEnv?: string;
}

/**
 * Parses the sender's flags (`--name value` or `--name=value`); unknown flags are ignored so an
 * old sender never fails a hook written for a newer one.
 */
export function parseFlags(args: string[]): Flags {
  // Hand-written: importing node:util's parseArgs costs about 7 ms of start-up per hook.
  const flags: Flags = { addChat: false };
  const valued: Record<string, keyof Flags> = {
    "--source-app": "sourceApp",
    "--server-url": "serverUrl",
    "--event-type": "eventType",
    "--run": "run",
    "--repo": "repo",
    "--agent": "agent",
    "--event": "event",
    "--wait": "wait",
    "--token-env": "tokenEnv",
  };
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i].split(/=(.*)/s, 2);
    if (name === "--add-chat") {
      flags.addChat = true;
    } else if (name === "--drain") {
      flags.drain = true;
    } else if (name === "--decide") {
      flags.decide = true;
    } else if (name in valued) {
      const value = inline ?? args[++i];
      if (value !== undefined) {
        (flags as unknown as Record<string, string>)[valued[name]] = value;
      }
    }
  }
  return flags;
}

/** What the sender needs from its surroundings; tests pass their own. */
export interface SendContext {
  args: string[];
  env: (name: string) => string | undefined;
  stdin: string;
  /** performance.now() at process start, for the replay budget. */
  startedAt: number;
  /** When the hook fired and the event's stable id, for an input read from the inbox. */
  fired?: { timestamp: number; eventId: string };
  /** The hard bound, when not `HOOKWATCH_DEADLINE_MS` (a held decision waits longer). */
  deadlineMs?: number;
}

/** The server to send to: `--server-url`, else `HOOKWATCH_URL`, else the default. */
export function serverUrlOf(
  flags: Flags,
  env: (name: string) => string | undefined,
): string {
  return flags.serverUrl || env("HOOKWATCH_URL") || DEFAULT_SERVER_URL;
}

/** Where the spool lives: `HOOKWATCH_SPOOL_DIR`, else the XDG state directory. */
export function spoolDir(
  env: (name: string) => string | undefined,
): string | null {
  const explicit = env("HOOKWATCH_SPOOL_DIR");
  if (explicit) return explicit;
  const state = env("XDG_STATE_HOME");
  if (state) return `${state}/hookwatch`;
  const home = env("HOME");
  return home ? `${home}/.local/state/hookwatch` : null;
}

/** The spool's bound from `HOOKWATCH_SPOOL_MAX_BYTES`; undefined means the spool's default. */
export function spoolMaxBytes(
  env: (name: string) => string | undefined,
): number | undefined {
  return positiveInt(env("HOOKWATCH_SPOOL_MAX_BYTES"), 0) || undefined;
}

/** Whether anything waits in the spool (a cheap directory listing, no file is read). */
export async function hasSpooled(dir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (/^(spool|replay)-.*\.ndjson$/.test(entry.name)) return true;
    }
  } catch {
    // no spool directory: nothing spooled
  }
  return false;
}

/** A positive integer setting, else `fallback`. */
export function positiveInt(
  value: string | undefined,
  fallback: number,
): number {
  const n = Number(value);
  return value && Number.isInteger(n) && n > 0 ? n : fallback;
}

/** One line on stderr, prefixed `hookwatch:`; never throws. */
export function log(message: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(`hookwatch: ${message}\n`));
  } catch {
    // stderr closed: nothing else to tell
  }
}
