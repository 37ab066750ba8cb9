/**
 * The detached sender `hook.sh` starts (`send_event.ts --drain`): one per server at a time,
 * marked by its run directory. It delivers the inbox in batches, spools what cannot be
 * delivered, replays the spool after a success, keeps the status file (`status_file.ts`),
 * lingers a moment for more files, and lets go of the run directory on its way out. It also
 * keeps `sender.log`, which `hook.sh` appends to, from growing without bound.
 *
 * @module
 */

import type { SpooledEvent } from "./spool.ts";
import {
  hasSpooled,
  parseFlags,
  type SendContext,
  serverUrlOf,
  spoolDir,
  spoolMaxBytes,
} from "./config.ts";
import { deliver, prepare, Sender } from "./delivery.ts";
import { inboxEntries, type InboxEntry } from "./inbox.ts";
import { replay, spoolEvent } from "./replay.ts";
import { countSpooled, recordStatus } from "./status_file.ts";

/** How long a drain waits for more inbox files before it exits. */
export const DRAIN_LINGER_MS = 1500;
/** How often a lingering drain looks at the inbox. */
const DRAIN_POLL_MS = 25;
/** What a drain keeps of its bound for the last look after it lets go (at most a third). */
const DRAIN_LEAVE_MS = 1000;
/** `sender.log` is rotated past this size. */
const SENDER_LOG_MAX_BYTES = 1024 * 1024;

/**
 * Delivers every inbox file for its server (a file that arrives while it runs too), spools what
 * cannot be delivered, replays the spool after a success, and exits after
 * {@linkcode DRAIN_LINGER_MS} without new files or near its bound, releasing the run directory
 * that keeps a second sender for the same server from starting.
 *
 * A hook that finds the run directory taken leaves its file to this sender. So the sender lets
 * go first and then delivers what is in the inbox once more, with time kept for it
 * ({@linkcode DRAIN_LEAVE_MS}): a file written before it let go is delivered by it, one written
 * after by the sender its hook starts. Both may send one file; the server stores it once (the
 * event id is the file's).
 */
export async function drain(ctx: SendContext, run: string): Promise<void> {
  const flags = parseFlags(ctx.args);
  const dir = spoolDir(ctx.env);
  if (!dir) return;
  const url = serverUrlOf(flags, ctx.env);
  const leaving = new Sender(url, ctx, flags);
  const working = new Sender(url, {
    ...ctx,
    deadlineMs: leaving.deadlineMs -
      Math.min(DRAIN_LEAVE_MS, leaving.deadlineMs / 3),
  }, flags);
  const maxBytes = spoolMaxBytes(ctx.env);
  const inbox = `${dir}/inbox`;
  await rotateLog(`${dir}/sender.log`);
  const send = async (sender: Sender, entries: InboxEntry[]) => {
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
    const replaying = undelivered.length === 0 && await hasSpooled(dir);
    if (replaying) await replay(sender, dir, maxBytes);
    await recordStatus(
      dir,
      sender,
      undelivered.length > 0 || replaying ? await countSpooled(dir) : 0,
    );
  };
  let idleSince = performance.now();
  while (working.remainingMs() > 100) {
    const entries = await inboxEntries(inbox, url);
    if (entries.length > 0) {
      await send(working, entries);
      idleSince = performance.now();
    } else if (performance.now() - idleSince < DRAIN_LINGER_MS) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    } else {
      break;
    }
  }
  await releaseRun(run);
  const left = await inboxEntries(inbox, url);
  if (left.length > 0) await send(leaving, left);
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
