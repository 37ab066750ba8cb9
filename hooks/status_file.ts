/**
 * The sender's status file: one small JSON file per server URL in the spool directory
 * (`status-<URL, percent-encoded>.json`) saying how delivery to that server goes: the URL, the
 * events spooled after the sender's last attempt, the last successful delivery, and the last
 * error in words with its time. The sender writes it; `status.ts` (`deno task hooks:status`)
 * reads it.
 *
 * Written cheaply: the sender reads the small file, and writes (a temporary file renamed over
 * it, so a reader never sees half of one) only when something a reader would see changed: the
 * error or its absence, the spooled count, or a time more than {@linkcode REFRESH_MS} old.
 * Several senders may write at once; the last rename wins, and each writes a whole, true-when-
 * written state. What is in the spool is also counted afresh by `hooks:status`.
 *
 * @module
 */

import { DEFAULT_TOKEN_ENV, log } from "./config.ts";
import type { Failure, Sender } from "./delivery.ts";

/** Times in the status are refreshed at most this often (a repeat of the same state). */
export const REFRESH_MS = 60_000;
const PREFIX = "status-";
const SUFFIX = ".json";

/** The status file's content. Times are ISO 8601 strings. */
export interface DeliveryStatus {
  server_url: string;
  /** Events in the spool when the sender last wrote this (the spool is shared by all servers). */
  spooled: number;
  last_delivery: string | null;
  /** The latest request's failure; null once a later request succeeded. */
  last_error: { at: string; message: string; detail: string } | null;
}

/** The status file for `serverUrl` in the spool directory `dir`. */
export function statusPath(dir: string, serverUrl: string): string {
  const url = serverUrl.replace(/\/+$/, "");
  return `${dir}/${PREFIX}${encodeURIComponent(url)}${SUFFIX}`;
}

/** The error in words, with what to do about it; `tokenEnv` holds the hooks' token. */
export function describeFailure(
  failure: Failure,
  url: string,
  sentToken: boolean,
  tokenEnv = DEFAULT_TOKEN_ENV,
): string {
  switch (failure.kind) {
    case "refused":
      return `connection refused at ${url} — is hookwatch running there? ` +
        "(start it, or reinstall the hooks with --server-url)";
    case "timeout":
      return `no answer from ${url} in time — hookwatch (or whatever listens there) accepts ` +
        "connections but does not answer; check its log (HOOKWATCH_TIMEOUT_MS sets the wait)";
    case "dns":
      return `cannot resolve the host of ${url} — check --server-url / HOOKWATCH_URL`;
    case "network":
      return `could not reach ${url}: ${failure.detail}`;
  }
  const status = failure.status ?? 0;
  if (status === 401) {
    return sentToken
      ? `401 from ${url} — the ${tokenEnv} where the agent runs is not the server's token`
      : `401 from ${url} — the server wants a token: set ${tokenEnv} where the agent runs ` +
        "(export it in the shell that starts the agent)";
  }
  if (status === 403) {
    return `403 from ${url} — the server, or a proxy in front of it, refuses this sender; ` +
      `check ${tokenEnv} and the proxy's rules`;
  }
  if (status === 404) {
    return `404 from ${url} — no hookwatch ingest there; check --server-url / HOOKWATCH_URL`;
  }
  if (status === 429) {
    return `429 from ${url} — hookwatch is shedding load; the events are spooled and replayed`;
  }
  if ([400, 413, 422].includes(status)) {
    return `${status} from ${url} — the server refused an event as invalid or too large ` +
      `(not retried; see sender.log): ${failure.detail}`;
  }
  if (status >= 500) {
    return `${status} from ${url} — hookwatch could not store the events (see its log); ` +
      "they are spooled and replayed";
  }
  return `${failure.detail} from ${url}`;
}

/** Reads one status file; null when it is missing or not a status. */
export async function readStatus(path: string): Promise<DeliveryStatus | null> {
  try {
    const status = JSON.parse(await Deno.readTextFile(path));
    return typeof status?.server_url === "string" ? status : null;
  } catch {
    return null;
  }
}

/** Every server's status in the spool directory, by URL. */
export async function readStatuses(dir: string): Promise<DeliveryStatus[]> {
  const statuses: DeliveryStatus[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.startsWith(PREFIX) || !entry.name.endsWith(SUFFIX)) {
        continue;
      }
      const status = await readStatus(`${dir}/${entry.name}`);
      if (status) statuses.push(status);
    }
  } catch {
    // no spool directory: no status
  }
  return statuses.sort((a, b) => a.server_url.localeCompare(b.server_url));
}

/** The events in the spool: its lines, counted without parsing them. */
export async function countSpooled(dir: string): Promise<number> {
  let count = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!/^(spool|replay)-.*\.ndjson$/.test(entry.name)) continue;
      const bytes = await Deno.readFile(`${dir}/${entry.name}`).catch(() =>
        new Uint8Array()
      );
      for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) {
        count++;
      }
    }
  } catch {
    // no spool directory: nothing spooled
  }
  return count;
}

function olderThan(iso: string | null | undefined, now: number): boolean {
  return !iso || now - Date.parse(iso) > REFRESH_MS;
}

/**
 * Records how this sender's requests went, if the status changed. `spooled` is the spool's
 * event count after them. Nothing happens when the sender made no request. Returns the status
 * written, or null when nothing was written; never throws.
 */
export async function recordStatus(
  dir: string,
  sender: Sender,
  spooled: number,
  now = Date.now(),
): Promise<DeliveryStatus | null> {
  const failure = sender.lastFailure;
  if (!failure && sender.lastDelivery === null) return null;
  try {
    const path = statusPath(dir, sender.url);
    const before = await readStatus(path);
    const message = failure &&
      describeFailure(failure, sender.url, sender.sendsToken, sender.tokenEnv);
    const status: DeliveryStatus = {
      server_url: sender.url,
      spooled,
      last_delivery: sender.lastDelivery === null
        ? before?.last_delivery ?? null
        : new Date(sender.lastDelivery).toISOString(),
      last_error: failure && message
        ? {
          at: new Date(failure.at).toISOString(),
          message,
          detail: failure.detail,
        }
        : null,
    };
    const unchanged = before !== null &&
      before.spooled === status.spooled &&
      before.last_error?.message === status.last_error?.message &&
      (status.last_error === null || !olderThan(before.last_error?.at, now)) &&
      (sender.lastDelivery === null || !olderThan(before.last_delivery, now));
    if (unchanged) return null;
    // `.tmp-<uuid>` is the spool's own temporary name: one left by a crash is cleaned up there.
    const tmp = `${dir}/.tmp-${crypto.randomUUID()}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(tmp, JSON.stringify(status, null, 2) + "\n", {
      mode: 0o600,
    });
    await Deno.rename(tmp, path);
    if (message && message !== before?.last_error?.message) {
      log(`${message} (${spooled} spooled; see deno task hooks:status)`);
    }
    return status;
  } catch {
    return null; // a status that cannot be written must not fail the delivery
  }
}
