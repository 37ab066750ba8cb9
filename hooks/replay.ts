/**
 * The sender's use of the spool: an event it could not deliver is appended there, and after a
 * successful send the spool is replayed to the server, oldest first, in batches, within what is
 * left of the sender's bound; what it could not send goes back. The spool's own mechanics
 * (locking, claims, the size bound) are `spool.ts`'s; `spool.ts` is imported only when an
 * event is spooled or replayed, so a plain successful send never loads it.
 *
 * @module
 */

import type { SpooledEvent } from "./spool.ts";
import { log } from "./config.ts";
import { BATCH_EVENTS, type Sender } from "./delivery.ts";

/** Appends an event to the spool; reports what an overflow dropped. */
export async function spoolEvent(
  dir: string,
  maxBytes: number | undefined,
  event: SpooledEvent,
): Promise<void> {
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

/** Replays the spool after a successful send, in order, within what is left of the bound. */
export async function replay(
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
      const batch = events.slice(sent, sent + BATCH_EVENTS);
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
