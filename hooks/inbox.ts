/**
 * The spool's inbox, as the sender reads it: the files `hook.sh` writes (a few `key=value`
 * header lines, then the hook's JSON), each read into the input, flags and stable event id
 * one delivery needs. It reads and removes corrupt files only; delivering and deleting
 * delivered files is the drain's (`drain.ts`).
 *
 * @module
 */

import { type Flags, log } from "./config.ts";
import { basename, eventIdAt } from "./delivery.ts";

/** An inbox file whose JSON is still incomplete after this long is dropped as corrupt. */
const INBOX_INCOMPLETE_MS = 10_000;

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
      agent: header.get("agent") || undefined,
      event: header.get("event") || undefined,
    },
    stdin,
    fired: { timestamp, eventId: eventIdAt(timestamp, hex) },
  };
}

/** The inbox's complete entries for `serverUrl`, oldest first; drops corrupt old files. */
export async function inboxEntries(
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
