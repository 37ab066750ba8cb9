/**
 * Delivery: turning one hook input into hookwatch's ingest body (source app, session, type,
 * stable `event_id`, model and optional chat from the transcript) and posting events to the
 * server with a bound on each request. It owns the HTTP side only: what cannot be delivered is
 * handed back to the caller, which spools it (`replay.ts`).
 *
 * @module
 */

import type { SpooledEvent } from "./spool.ts";
import {
  adapterOf,
  commonEvent,
  DEFAULT_AGENT,
  isAgentName,
} from "../common/adapters/mod.ts";
import {
  DEFAULT_DEADLINE_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOKEN_ENV,
  type Flags,
  log,
  parseFlags,
  positiveInt,
  type SendContext,
  TOKEN_ENV_NAME,
} from "./config.ts";

/** Most events in one batch request. */
export const BATCH_EVENTS = 500;

/** The last part of a path, trailing slashes ignored. */
export function basename(path: string): string {
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

/** How the server took a request: stored, worth trying again later, or never acceptable. */
export type Outcome = "stored" | "retry" | "rejected";

/** Why a request failed, as facts; `status.ts` puts them into words. */
export interface Failure {
  /** When, ms since the epoch. */
  at: number;
  /** `http`: the server answered `status`; the rest: no answer (refused, timed out, no such host, other). */
  kind: "http" | "refused" | "timeout" | "dns" | "network";
  status?: number;
  /** The error or the answer's first bytes. */
  detail: string;
}

/** The facts of a failed `fetch`: refused, timed out, no such host, or another network error. */
export function failureOf(error: unknown, at: number): Failure {
  const { name, message, cause } = error as Error;
  // Deno says "fetch failed"; the reason (refused, DNS) is the cause's message.
  const detail = cause instanceof Error
    ? `${message}: ${cause.message}`
    : message;
  const kind = name === "TimeoutError"
    ? "timeout"
    : /connection refused/i.test(detail)
    ? "refused"
    : /dns error|lookup address/i.test(detail)
    ? "dns"
    : "network";
  return { at, kind, detail };
}

/**
 * Posts to one hookwatch server, each request bounded by the timeout and the deadline. It
 * remembers how its requests went (the last delivery, and the failure if the last request
 * failed) for the status file.
 */
export class Sender {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly startedAt: number;
  /** The variable the token is read from: `--token-env`, else `HOOKWATCH_TOKEN`. */
  readonly tokenEnv: string;
  /** When a request last stored events; null when none did in this process. */
  lastDelivery: number | null = null;
  /** Why the latest request failed; null once a later one succeeds. */
  lastFailure: Failure | null = null;

  /** `flags`: the caller's parsed flags (read again from `ctx.args` when not given). */
  constructor(
    url: string,
    ctx: SendContext,
    flags: Pick<Flags, "tokenEnv"> = parseFlags(ctx.args),
  ) {
    this.url = url.replace(/\/+$/, "");
    this.headers = { "content-type": "application/json" };
    const named = flags.tokenEnv;
    this.tokenEnv = named && TOKEN_ENV_NAME.test(named)
      ? named
      : DEFAULT_TOKEN_ENV;
    const token = ctx.env(this.tokenEnv);
    if (token) this.headers.authorization = `Bearer ${token}`;
    this.timeoutMs = positiveInt(
      ctx.env("HOOKWATCH_TIMEOUT_MS"),
      DEFAULT_TIMEOUT_MS,
    );
    this.deadlineMs = ctx.deadlineMs ?? positiveInt(
      ctx.env("HOOKWATCH_DEADLINE_MS"),
      DEFAULT_DEADLINE_MS,
    );
    this.startedAt = ctx.startedAt;
  }

  /** Whether requests carry a token. */
  get sendsToken(): boolean {
    return "authorization" in this.headers;
  }

  remainingMs(): number {
    return this.deadlineMs - (performance.now() - this.startedAt);
  }

  /**
   * Posts `body` to `path`. The answer's body is read for a batch (its duplicate flags) and
   * with `read` (a held decision); a single event's answer only echoes the event.
   */
  async post(
    path: string,
    body: string,
    timeoutMs: number,
    read = path.endsWith("/batch"),
  ): Promise<
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
        this.lastDelivery = Date.now();
        this.lastFailure = null;
        if (read) {
          return { outcome: "stored", detail: await response.text() };
        }
        await response.body?.cancel();
        return { outcome: "stored", detail: String(response.status) };
      }
      const detail = `${response.status} ${
        (await response.text()).slice(0, 300)
      }`;
      this.lastFailure = {
        at: Date.now(),
        kind: "http",
        status: response.status,
        detail,
      };
      // A body the server will never accept is not retried; everything else may heal.
      const rejected = [400, 413, 422].includes(response.status);
      return { outcome: rejected ? "rejected" : "retry", detail };
    } catch (error) {
      this.lastFailure = failureOf(error, Date.now());
      return { outcome: "retry", detail: this.lastFailure.detail };
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

/** An agent's own timestamp is taken when it is within this of when the hook fired. */
const AGENT_CLOCK_SKEW_MS = 3_600_000;

function buildEvent(
  input: Record<string, unknown>,
  flags: Flags,
  ctx: SendContext,
): SpooledEvent {
  const agent = isAgentName(flags.agent) ? flags.agent : DEFAULT_AGENT;
  // The agent's adapter reads its input: session id, event name, time.
  const read = adapterOf(agent).hookInput(
    input,
    flags.eventType || flags.event,
  );
  const native = typeof read.event === "string" ? read.event : "";
  const cwd = typeof input.cwd === "string" && input.cwd
    ? input.cwd
    : Deno.cwd();
  const fired = ctx.fired?.timestamp ?? Date.now();
  const event: SpooledEvent = {
    source_app: flags.sourceApp || ctx.env("HOOKWATCH_SOURCE_APP") ||
      flags.repo || repositoryName(cwd),
    session_id: typeof read.session_id === "string" && read.session_id
      ? read.session_id
      : "unknown",
    hook_event_type: native,
    payload: input,
    timestamp: read.timestamp !== null &&
        Math.abs(read.timestamp - fired) < AGENT_CLOCK_SKEW_MS
      ? read.timestamp
      : fired,
    event_id: ctx.fired?.eventId ??
      eventIdAt(Date.now(), crypto.randomUUID().replaceAll("-", "")),
  };
  if (agent !== DEFAULT_AGENT && native) {
    // Spooled under the common name too, so an overflow keeps its priority events.
    const common = commonEvent(agent, native, input);
    event.agent = agent;
    event.hook_event_type = common.hook_event_type;
    if (common.agent_event !== null) event.agent_event = common.agent_event;
    if (read.model_name) event.model_name = read.model_name;
  }
  return event;
}

/** The ingest body for one hook input; null (and a line on stderr) when it is not one. */
export async function prepare(
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
  // Only Claude Code's transcripts are read (the others' are their own formats).
  if (!adapterOf(flags.agent).claudeTranscript) return event;
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

/** Sends events as batches; returns those the server did not take (to be spooled). */
export async function deliver(
  sender: Sender,
  events: SpooledEvent[],
): Promise<SpooledEvent[]> {
  for (let sent = 0; sent < events.length;) {
    const batch = events.slice(sent, sent + BATCH_EVENTS);
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
