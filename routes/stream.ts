import { Hono } from "hono";
import type { Deps } from "../lib/hookwatch.ts";
import type { StreamFilter } from "../lib/stream/broadcaster.ts";
import { openEventStream } from "../lib/stream/live_stream.ts";
import { param, query } from "./edge/params.ts";
import { AGENT_NAMES } from "../common/adapters/names.ts";

const streamQuery = query({
  source_app: param.text(),
  priority: param.priority,
  agent: param.oneOf(AGENT_NAMES),
  last_event_id: (raw) => raw,
});

/** `Last-Event-ID` (or `?last_event_id=`): a non-negative whole number; "" is none. */
const lastEventId = param.integer(
  0,
  Number.MAX_SAFE_INTEGER,
  "must be a non-negative integer",
);

/** `GET /stream`: Server-Sent Events. */
export function streamRoutes(hw: Deps): Hono {
  const app = new Hono();
  app.get("/stream", streamQuery, async (c) => {
    const { source_app, priority, agent, last_event_id } = c.req.valid("query");
    const resume = c.req.header("last-event-id") ?? last_event_id;
    const filter: StreamFilter = {};
    if (source_app !== undefined) filter.source_app = source_app;
    if (priority !== undefined) filter.priority = priority;
    if (agent !== undefined) filter.agent = agent;
    const body = await openEventStream(hw.store, hw.broadcaster, {
      lastEventId: lastEventId(resume || undefined, "Last-Event-ID") ?? null,
      filter,
      replayLimit: hw.config.streamReplayLimit,
      snapshot: () => hw.snapshots.take(),
      onClose: c.get("streamRelease"),
      signal: hw.access.signalFor(c.get("identity")),
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
