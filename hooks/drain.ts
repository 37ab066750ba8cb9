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
import { inboxEntries } from "./inbox.ts";
import { replay, spoolEvent } from "./replay.ts";
import { countSpooled, recordStatus } from "./status_file.ts";

/** How long a drain waits for more inbox files before it exits. */
export const DRAIN_LINGER_MS = 1500;
/** How often a lingering drain looks at the inbox. */
const DRAIN_POLL_MS = 25;
/** `sender.log` is rotated past this size. */
const SENDER_LOG_MAX_BYTES = 1024 * 1024;

/**
 * Delivers every inbox file for its server (a file that arrives while it runs too), spools what
 * cannot be delivered, replays the spool after a success, and exits after
 * {@linkcode DRAIN_LINGER_MS} without new files, releasing the run directory that keeps a
 * second sender for the same server from starting.
 */
export async function drain(ctx: SendContext, run: string): Promise<void> {
  const flags = parseFlags(ctx.args);
  const dir = spoolDir(ctx.env);
  if (!dir) return;
  const url = serverUrlOf(flags, ctx.env);
  const sender = new Sender(url, ctx);
  const maxBytes = spoolMaxBytes(ctx.env);
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
    const replaying = undelivered.length === 0 && await hasSpooled(dir);
    if (replaying) await replay(sender, dir, maxBytes);
    await recordStatus(
      dir,
      sender,
      undelivered.length > 0 || replaying ? await countSpooled(dir) : 0,
    );
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
