import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import type { StreamFilter } from "../lib/stream/broadcaster.ts";
import { openEventStream } from "../lib/stream/live_stream.ts";

function parseLastId(value: string | undefined): number | null {
  if (value === undefined || value === "") return null;
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new HttpError(400, "Last-Event-ID must be a non-negative integer");
  }
  return id;
}

/** `GET /stream`: Server-Sent Events. */
export function streamRoutes(hw: Deps): Hono {
  const app = new Hono();
  app.get("/stream", async (c) => {
    const lastEventId = parseLastId(
      c.req.header("last-event-id") ?? c.req.query("last_event_id"),
    );
    const filter: StreamFilter = {};
    const sourceApp = c.req.query("source_app");
    if (sourceApp !== undefined) filter.source_app = sourceApp;
    const priority = c.req.query("priority");
    if (priority !== undefined) {
      if (priority !== "0" && priority !== "1") {
        throw new HttpError(400, "priority must be 1 or 0");
      }
      filter.priority = priority === "1" ? 1 : 0;
    }
    const body = await openEventStream(hw.store, hw.broadcaster, {
      lastEventId,
      filter,
      replayLimit: hw.config.streamReplayLimit,
      snapshot: () => hw.snapshots.take(),
      onClose: c.get("streamRelease"),
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
  return app;
}
