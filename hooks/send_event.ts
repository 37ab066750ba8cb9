/**
 * The hookwatch hook sender: Claude Code runs it as a command hook with the hook's JSON on
 * stdin; it posts the event to hookwatch and exits 0, always, within a hard bound, printing
 * nothing on stdout (Claude Code reads some hooks' stdout as a decision). An event it cannot
 * deliver is spooled and replayed, in order, after the next successful send.
 *
 * Usage: `send_event.ts [--source-app NAME] [--server-url URL] [--event-type TYPE] [--add-chat]`
 * with the hook's JSON on stdin; `--drain --run DIR --server-url URL` to deliver the hook inputs
 * that `hook.sh` wrote to the spool's inbox (how the installed hooks run it: detached, after
 * Claude Code has moved on); or `send_event.ts install|uninstall [...]` for the installer (see
 * `install.ts`).
 *
 * Start-up time is most of the hook's cost, so this module imports nothing at load time; the
 * spool, transcript and installer modules are imported only on the paths that need them.
 *
 * @module
 */

import type { SpooledEvent } from "./spool.ts";

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
/** How long a drain waits for more inbox files before it exits. */
export const DRAIN_LINGER_MS = 1500;
/** How often a lingering drain looks at the inbox. */
const DRAIN_POLL_MS = 25;
/** `sender.log` is rotated past this size. */
const SENDER_LOG_MAX_BYTES = 1024 * 1024;
/** An inbox file whose JSON is still incomplete after this long is dropped as corrupt. */
const INBOX_INCOMPLETE_MS = 10_000;
/** Most events in one replay request. */
const REPLAY_BATCH_EVENTS = 500;

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
  };
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i].split(/=(.*)/s, 2);
    if (name === "--add-chat") {
      flags.addChat = true;
    } else if (name === "--drain") {
      flags.drain = true;
    } else if (name in valued) {
      const value = inline ?? args[++i];
      if (value !== undefined) {
        (flags as unknown as Record<string, string>)[valued[name]] = value;
      }
    }
  }
  return flags;
}

function basename(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() ?? "";
}

function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const index = trimmed.lastIndexOf("/");
  return index <= 0 ? "/" : trimmed.slice(0, index);
}

/**
 * The git repository name of `cwd`: the directory holding `.git`, found by walking up without
 * running git (a subprocess would cost more than the whole hook). In a linked worktree it is
 * the main repository's name. Falls back to the name of `cwd` itself.
 */
export function repositoryName(cwd: string): string {
  let dir = cwd;
  for (let depth = 0; depth < 64; depth++) {
    try {
      const info = Deno.statSync(`${dir}/.git`);
      if (info.isFile) {
        const gitdir = /^gitdir:\s*(.+)$/m.exec(
          Deno.readTextFileSync(`${dir}/.git`),
        )?.[1]?.trim();
        const main = gitdir && /^(.*)\/\.git\/worktrees\/[^/]+$/.exec(gitdir);
        if (main) return basename(main[1]);
      }
      return basename(dir) || "root";
    } catch {
      // no .git here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return basename(cwd) || "unknown";
}

/**
 * The model of the session's latest assistant message, searched backwards from the transcript's
 * end (transcripts grow to many megabytes, and the records after the last answer can be large).
 * Null when the file or a model name is not there.
 */
export async function modelFromTranscript(
  path: string,
): Promise<string | null> {
  const { newestAssistantModel } = await import("./transcript.ts");
  return await newestAssistantModel(path);
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

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isInteger(n) && n > 0 ? n : fallback;
}

function log(message: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(`hookwatch: ${message}\n`));
  } catch {
    // stderr closed: nothing else to tell
  }
}

type Outcome = "stored" | "retry" | "rejected";

/** What the sender needs from its surroundings; tests pass their own. */
export interface SendContext {
  args: string[];
  env: (name: string) => string | undefined;
  stdin: string;
  /** performance.now() at process start, for the replay budget. */
  startedAt: number;
  /** When the hook fired and the event's stable id, for an input read from the inbox. */
  fired?: { timestamp: number; eventId: string };
}

class Sender {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly startedAt: number;

  constructor(url: string, ctx: SendContext) {
    this.url = url.replace(/\/+$/, "");
    this.headers = { "content-type": "application/json" };
    const token = ctx.env("HOOKWATCH_TOKEN");
    if (token) this.headers.authorization = `Bearer ${token}`;
    this.timeoutMs = positiveInt(
      ctx.env("HOOKWATCH_TIMEOUT_MS"),
      DEFAULT_TIMEOUT_MS,
    );
    this.deadlineMs = positiveInt(
      ctx.env("HOOKWATCH_DEADLINE_MS"),
      DEFAULT_DEADLINE_MS,
    );
    this.startedAt = ctx.startedAt;
  }

  remainingMs(): number {
    return this.deadlineMs - (performance.now() - this.startedAt);
  }

  async post(path: string, body: string, timeoutMs: number): Promise<
    { outcome: Outcome; detail: string }
  > {
    try {
      const response = await fetch(this.url + path, {
        method: "POST",
        headers: this.headers,
        body,
        signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
      });
      if (response.ok) {
        // Only a batch answer is read (for its duplicate flags); a single one echoes the event.
        if (path.endsWith("/batch")) {
          return { outcome: "stored", detail: await response.text() };
        }
        await response.body?.cancel();
        return { outcome: "stored", detail: String(response.status) };
      }
      const detail = `${response.status} ${
        (await response.text()).slice(0, 300)
      }`;
      // A body the server will never accept is not retried; everything else may heal.
      const rejected = [400, 413, 422].includes(response.status);
      return { outcome: rejected ? "rejected" : "retry", detail };
    } catch (error) {
      return { outcome: "retry", detail: (error as Error).message };
    }
  }
}

/**
 * An event id that sorts by when the hook fired (`hw-`, 12 hex digits of Unix ms, then `hex`):
 * the server's unique index on `event_id` then grows at its end rather than at a random page,
 * which made each stored event cost about 1.25× as much (`bench/insert_bench.ts`).
 */
export function eventIdAt(ms: number, hex: string): string {
  return `hw-${Math.floor(ms).toString(16).padStart(12, "0")}${hex}`;
}

function buildEvent(
  input: Record<string, unknown>,
  flags: Flags,
  ctx: SendContext,
): SpooledEvent {
  const cwd = typeof input.cwd === "string" && input.cwd
    ? input.cwd
    : Deno.cwd();
  return {
    source_app: flags.sourceApp || ctx.env("HOOKWATCH_SOURCE_APP") ||
      flags.repo || repositoryName(cwd),
    session_id: typeof input.session_id === "string" && input.session_id
      ? input.session_id
      : "unknown",
    hook_event_type: flags.eventType ||
      (typeof input.hook_event_name === "string" ? input.hook_event_name : ""),
    payload: input,
    timestamp: ctx.fired?.timestamp ?? Date.now(),
    event_id: ctx.fired?.eventId ??
      eventIdAt(Date.now(), crypto.randomUUID().replaceAll("-", "")),
  };
}

async function spoolEvent(
  dir: string,
  maxBytes: number | undefined,
  event: SpooledEvent,
) {
  const { Spool } = await import("./spool.ts");
  const dropped = await new Spool({ dir, maxBytes }).append(event);
  if (
    dropped.dropped_regular + dropped.dropped_priority +
        dropped.dropped_corrupt > 0
  ) {
    log(
      `the spool in ${dir} is full: dropped the oldest ${dropped.dropped_regular} regular, ` +
        `${dropped.dropped_priority} priority and ${dropped.dropped_corrupt} corrupt entries`,
    );
  }
}

async function hasSpooled(dir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (/^(spool|replay)-.*\.ndjson$/.test(entry.name)) return true;
    }
  } catch {
    // no spool directory: nothing spooled
  }
  return false;
}

/** One hook input that `hook.sh` wrote to the inbox. */
export interface InboxEntry {
  path: string;
  /** The header lines `hook.sh` wrote before the JSON. */
  serverUrl: string;
  flags: Flags;
  stdin: string;
  /** When the hook fired (the file's time) and the event's stable id. */
  fired: { timestamp: number; eventId: string };
}

/**
 * Reads an inbox file: `key=value` header lines, then the hook's JSON. The event id is derived
 * from the file's name, time and content ({@linkcode eventIdAt}, led by the file's time), so two
 * senders that both deliver one file (a race, or one killed after the POST) send the same
 * `event_id`, and the server stores the event once.
 * Null when the file is gone or not complete yet; `"corrupt"` when it never will be.
 */
export async function readInboxEntry(
  path: string,
  now = Date.now(),
): Promise<InboxEntry | null | "corrupt"> {
  let text: string;
  let info: Deno.FileInfo;
  try {
    [text, info] = await Promise.all([
      Deno.readTextFile(path),
      Deno.stat(path),
    ]);
  } catch {
    return null;
  }
  const timestamp = Math.floor(info.mtime?.getTime() ?? now);
  const start = text.indexOf("\n{");
  const header = new Map<string, string>();
  for (const line of text.slice(0, Math.max(0, start)).split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) header.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const stdin = start < 0 ? "" : text.slice(start + 1);
  let complete = false;
  try {
    JSON.parse(stdin);
    complete = true;
  } catch {
    // still being written, or broken
  }
  if (!complete || !header.has("server_url")) {
    return now - timestamp > INBOX_INCOMPLETE_MS ? "corrupt" : null;
  }
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${basename(path)}\n${timestamp}\n${text}`),
  );
  const hex = Array.from(
    new Uint8Array(digest, 0, 16),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return {
    path,
    serverUrl: header.get("server_url")!,
    flags: {
      sourceApp: header.get("source_app") || undefined,
      repo: header.get("repo") || undefined,
      addChat: header.get("add_chat") === "1",
    },
    stdin,
    fired: { timestamp, eventId: eventIdAt(timestamp, hex) },
  };
}

/** The inbox's complete entries for `serverUrl`, oldest first; drops corrupt old files. */
async function inboxEntries(
  inbox: string,
  serverUrl: string,
): Promise<InboxEntry[]> {
  const entries: InboxEntry[] = [];
  try {
    for await (const item of Deno.readDir(inbox)) {
      if (!item.isFile) continue;
      const path = `${inbox}/${item.name}`;
      const entry = await readInboxEntry(path);
      if (entry === "corrupt") {
        log(`dropped inbox file ${item.name}: not a hook's input`);
        await Deno.remove(path).catch(() => {});
      } else if (entry && entry.serverUrl === serverUrl) {
        entries.push(entry);
      }
    }
  } catch {
    // no inbox yet
  }
  return entries.sort((a, b) => a.fired.timestamp - b.fired.timestamp);
}

/** Sends events as batches; returns those the server did not take (to be spooled). */
async function deliver(
  sender: Sender,
  events: SpooledEvent[],
): Promise<SpooledEvent[]> {
  for (let sent = 0; sent < events.length;) {
    const batch = events.slice(sent, sent + REPLAY_BATCH_EVENTS);
    const result = await sender.post(
      "/events/batch",
      JSON.stringify(batch),
      Math.min(sender.timeoutMs, sender.remainingMs() - 50),
    );
    if (result.outcome === "retry") return events.slice(sent);
    if (result.outcome === "rejected") {
      // All or nothing: send one by one, so one bad event does not hold back the others.
      for (const [i, event] of batch.entries()) {
        const one = await sender.post(
          "/events",
          JSON.stringify(event),
          Math.min(sender.timeoutMs, sender.remainingMs() - 50),
        );
        if (one.outcome === "retry") {
          return [...batch.slice(i), ...events.slice(sent + batch.length)];
        }
        if (one.outcome === "rejected") {
          log(`the server refused event ${event.event_id}: ${one.detail}`);
        }
      }
    }
    sent += batch.length;
  }
  return [];
}

/**
 * The detached sender `hook.sh` starts: delivers every inbox file for its server (a file that
 * arrives while it runs too), spools what cannot be delivered, replays the spool after a
 * success, and exits after {@linkcode DRAIN_LINGER_MS} without new files, releasing the run
 * directory that keeps a second sender for the same server from starting.
 */
export async function drain(ctx: SendContext, run: string): Promise<void> {
  const flags = parseFlags(ctx.args);
  const dir = spoolDir(ctx.env);
  if (!dir) return;
  const url = flags.serverUrl || ctx.env("HOOKWATCH_URL") || DEFAULT_SERVER_URL;
  const sender = new Sender(url, ctx);
  const maxBytes = positiveInt(ctx.env("HOOKWATCH_SPOOL_MAX_BYTES"), 0) ||
    undefined;
  const inbox = `${dir}/inbox`;
  await rotateLog(`${dir}/sender.log`);
  let idleSince = performance.now();
  while (sender.remainingMs() > 100) {
    const entries = await inboxEntries(inbox, url);
    if (entries.length === 0) {
      if (performance.now() - idleSince < DRAIN_LINGER_MS) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
        continue;
      }
      // Let go of the run directory, then look once more: a hook that found it taken just
      // before counts on this sender to pick its file up.
      await releaseRun(run);
      if ((await inboxEntries(inbox, url)).length === 0) return;
      try {
        await Deno.mkdir(run);
        await Deno.writeTextFile(`${run}/pid`, `${Deno.pid}\n`);
      } catch {
        return; // another sender has it now
      }
      continue;
    }
    const events: SpooledEvent[] = [];
    for (const entry of entries) {
      const event = await prepare(entry.stdin, entry.flags, {
        ...ctx,
        fired: entry.fired,
      });
      if (event) events.push(event);
    }
    const undelivered = await deliver(sender, events);
    for (const event of undelivered) await spoolEvent(dir, maxBytes, event);
    await Promise.all(
      entries.map((entry) => Deno.remove(entry.path).catch(() => {})),
    );
    if (undelivered.length === 0 && await hasSpooled(dir)) {
      await replay(sender, dir, maxBytes);
    }
    idleSince = performance.now();
  }
  await releaseRun(run);
}

/** `hook.sh` appends the senders' stderr to `sender.log`; one old generation is kept. */
async function rotateLog(path: string): Promise<void> {
  try {
    if ((await Deno.stat(path)).size > SENDER_LOG_MAX_BYTES) {
      await Deno.rename(path, `${path}.1`);
    }
  } catch {
    // no log yet
  }
}

/** Removes the run directory, if it is still this process's. */
export async function releaseRun(run: string): Promise<void> {
  try {
    const pid = Number((await Deno.readTextFile(`${run}/pid`)).trim());
    if (pid !== Deno.pid) return;
    await Deno.remove(run, { recursive: true });
  } catch {
    // gone already
  }
}

/** The ingest body for one hook input; null (and a line on stderr) when it is not one. */
async function prepare(
  stdin: string,
  flags: Flags,
  ctx: SendContext,
): Promise<SpooledEvent | null> {
  let input: unknown;
  try {
    input = JSON.parse(stdin);
  } catch (error) {
    log(
      `stdin is not the hook's JSON (${
        (error as Error).message
      }); nothing sent`,
    );
    return null;
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    log("stdin is not a JSON object; nothing sent");
    return null;
  }
  const record = input as Record<string, unknown>;
  const event = buildEvent(record, flags, ctx);
  if (!event.hook_event_type) {
    log(
      "the hook input has no hook_event_name and --event-type was not given; nothing sent",
    );
    return null;
  }
  const model = typeof record.model === "string"
    ? record.model
    : typeof record.transcript_path === "string"
    ? await modelFromTranscript(record.transcript_path)
    : null;
  if (model) event.model_name = model;
  if (flags.addChat && typeof record.transcript_path === "string") {
    const { readChat } = await import("./transcript.ts");
    const chat = await readChat(record.transcript_path);
    if (chat) event.chat = chat;
  }
  return event;
}

/** Replays the spool after a successful send, in order, within what is left of the bound. */
async function replay(
  sender: Sender,
  dir: string,
  maxBytes: number | undefined,
): Promise<void> {
  const { Spool } = await import("./spool.ts");
  const spool = new Spool({ dir, maxBytes });
  const claim = await spool.claim();
  for (const { file, line, reason } of claim.corrupt) {
    log(`skipped corrupt spool line ${line} of ${file} (${reason})`);
  }
  const events = claim.events;
  let sent = 0;
  let dropped = 0;
  let duplicates = 0;
  try {
    while (sent < events.length) {
      const remaining = sender.remainingMs() - 50;
      if (remaining <= 0) break;
      const batch = events.slice(sent, sent + REPLAY_BATCH_EVENTS);
      const result = await sender.post(
        "/events/batch",
        JSON.stringify(batch),
        remaining,
      );
      if (result.outcome === "retry") break;
      if (result.outcome === "rejected") {
        // The batch is all-or-nothing: find the events the server refuses, send the rest.
        let stop = false;
        for (const event of batch) {
          const one = await sender.post(
            "/events",
            JSON.stringify(event),
            sender.remainingMs() - 50,
          );
          if (one.outcome === "retry") {
            stop = true;
            break;
          }
          if (one.outcome === "rejected") {
            dropped++;
            log(
              `the server refused spooled event ${event.event_id}: ${one.detail}`,
            );
          }
          sent++;
        }
        if (stop) break;
        continue;
      }
      sent += batch.length;
      try {
        duplicates += JSON.parse(result.detail).events.filter((
          e: { duplicate?: boolean },
        ) => e.duplicate).length;
      } catch {
        // an older server without duplicate flags
      }
    }
  } finally {
    await spool.release(claim, events.slice(sent));
  }
  if (sent > 0) {
    log(
      `replayed ${sent - dropped} spooled events` +
        (duplicates > 0 ? ` (${duplicates} had been stored already)` : "") +
        (sent < events.length
          ? `; ${events.length - sent} wait for the next send`
          : ""),
    );
  }
}

/** Runs one hook invocation. Never throws for a delivery problem; the caller exits 0. */
export async function sendEvent(ctx: SendContext): Promise<void> {
  const flags = parseFlags(ctx.args);
  const event = await prepare(ctx.stdin, flags, ctx);
  if (!event) return;
  const maxBytes = positiveInt(ctx.env("HOOKWATCH_SPOOL_MAX_BYTES"), 0) ||
    undefined;
  const sender = new Sender(
    flags.serverUrl || ctx.env("HOOKWATCH_URL") || DEFAULT_SERVER_URL,
    ctx,
  );
  const dir = spoolDir(ctx.env);
  const post = () =>
    sender.post(
      "/events",
      JSON.stringify(event),
      Math.min(sender.timeoutMs, sender.remainingMs() - 50),
    );
  let result = await post();
  if (result.detail.startsWith("413") && event.chat) {
    log(
      "the event with its transcript is over the server's limit; sent without it",
    );
    delete event.chat;
    result = await post();
  }
  if (result.outcome === "rejected") {
    log(`the server refused the event: ${result.detail}`);
    return;
  }
  if (!dir) {
    if (result.outcome === "retry") {
      log(
        `could not deliver the event (${result.detail}) and there is no spool directory`,
      );
    }
    return;
  }
  if (result.outcome === "retry") {
    await spoolEvent(dir, maxBytes, event);
    return;
  }
  if (await hasSpooled(dir)) await replay(sender, dir, maxBytes);
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const command = Deno.args[0];
  if (command === "install" || command === "uninstall") {
    const { main: installMain } = await import("./install.ts");
    Deno.exit(await installMain(Deno.args));
  }
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  const { drain: draining, run } = parseFlags(Deno.args);
  const deadline = setTimeout(
    async () => {
      if (draining && run) await releaseRun(run);
      Deno.exit(0);
    },
    positiveInt(env("HOOKWATCH_DEADLINE_MS"), DEFAULT_DEADLINE_MS),
  );
  Deno.unrefTimer(deadline);
  if (draining && run) {
    // The hook ignores SIGTERM (Claude Code's cancel) and so would this process: listen
    // instead, let go of the run directory and exit; what is left in the inbox stays there.
    Deno.addSignalListener("SIGTERM", async () => {
      await releaseRun(run);
      Deno.exit(0);
    });
  }
  try {
    if (draining && run) {
      await drain({ args: Deno.args, env, stdin: "", startedAt }, run);
    } else {
      const stdin = await new Response(Deno.stdin.readable).text();
      await sendEvent({ args: Deno.args, env, stdin, startedAt });
    }
  } catch (error) {
    log(`unexpected error: ${(error as Error).stack ?? error}`);
  }
  Deno.exit(0);
}

if (import.meta.main) await main();
