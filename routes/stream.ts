import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Deps } from "../lib/hookwatch.ts";
import type { StreamFilter } from "../lib/stream/broadcaster.ts";
import { openEventStream } from "../lib/stream/live_stream.ts";

function parseLastId(value: string | undefined): number | null {
  if (value === undefined || value === "") return null;
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new HTTPException(400, {
      message: "Last-Event-ID must be a non-negative integer",
    });
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
        throw new HTTPException(400, { message: "priority must be 1 or 0" });
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
    return new Response(endsQuietly(body), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
  return app;
}

/**
 * The stream as the connection reads it: when the broadcaster drops a client (its stream errors,
 * which frees its queue at once), the answer just ends (the client resumes by id) instead of
 * erroring, which Deno.serve would print on stderr, outside the log. Pull-based, so it holds
 * nothing itself.
 */
function endsQuietly(
  stream: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch {
        controller.close();
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}
