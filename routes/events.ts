import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import { eventFromHookInput, validateHookEventType } from "../common/events.ts";
import type { RecentQuery } from "../lib/store/store.ts";
import { readJson } from "./edge/body.ts";
import { badParam } from "./edge/params.ts";
import { decisionOutput } from "../lib/agents/decisions.ts";
import { snapshotJson } from "../lib/stream/sse.ts";

/** Largest `limit` on `/events/recent`. */
export const RECENT_LIMIT_MAX = 1000;

function parsePriority(value: string): 0 | 1 {
  if (["1", "true", "priority"].includes(value)) return 1;
  if (["0", "false", "regular"].includes(value)) return 0;
  badParam("priority", "must be 1, 0, true, false, priority or regular");
}

function parseRecentQuery(q: Record<string, string>): RecentQuery {
  let limit = 100;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      badParam("limit", "must be a positive integer");
    }
    limit = Math.min(limit, RECENT_LIMIT_MAX);
  }
  const query: RecentQuery = { limit };
  for (const name of ["source_app", "session_id"] as const) {
    const value = q[name];
    if (value === undefined) continue;
    if (value.length === 0 || value.length > 256) {
      badParam(name, "must be 1 to 256 characters");
    }
    query[name] = value;
  }
  if (q.hook_event_type !== undefined) {
    query.hook_event_type = validateHookEventType(
      q.hook_event_type,
      "hook_event_type",
    );
  }
  if (q.priority !== undefined) query.priority = parsePriority(q.priority);
  return query;
}

/** The wait of a held permission request: `?wait=` seconds, at most `maxMs`. */
function decisionWait(raw: string | undefined, maxMs: number): number {
  if (raw === undefined) return maxMs;
  const seconds = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    badParam("wait", "must be a positive number of seconds");
  }
  return Math.min(seconds * 1000, maxMs);
}

/**
 * Query routes (`GET /events…`; ingest is `routes/ingest.ts`) and `/hooks/:source_app/decide`
 * (a `PermissionRequest` held for a person's decision, `?wait=` seconds), which stays behind
 * the middleware chain: it is not a hot path.
 */
export function eventRoutes(hw: Deps): Hono {
  const app = new Hono();
  const limits = {
    maxBytes: hw.config.maxBodyBytes,
    timeoutMs: hw.config.bodyTimeoutMs,
  };

  // Answers 2xx always once stored: an empty body leaves Claude Code to its own dialog.
  app.post("/hooks/:source_app/decide", async (c) => {
    const waitMs = decisionWait(c.req.query("wait"), hw.config.decisionWaitMs);
    const event = eventFromHookInput(
      c.req.param("source_app"),
      await readJson(c.req.raw, limits),
      Date.now(),
    );
    const [{ event: stored }] = await hw.ingest([event]);
    if (
      !hw.config.decisions || stored.hook_event_type !== "PermissionRequest"
    ) {
      return c.body(null, 204);
    }
    const decision = await hw.decisions.hold(
      stored.id,
      waitMs,
      c.req.raw.signal,
    );
    return decision ? c.json(decisionOutput(decision)) : c.body(null, 204);
  });

  app.get("/events/recent", async (c) => {
    return c.json(await hw.store.recent(parseRecentQuery(c.req.query())));
  });

  app.get("/events/priority", async (c) => {
    const { snapshot } = await hw.snapshots.take();
    return c.body(snapshotJson(snapshot), 200, {
      "content-type": "application/json",
    });
  });

  app.get("/events/filter-options", async (c) => {
    return c.json(await hw.store.filterOptions());
  });

  app.get("/events/:id", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id < 1) {
      badParam("id", "must be a positive integer");
    }
    const event = await hw.store.get(id);
    if (!event) {
      throw new HttpError(404, `no event with id ${id}`);
    }
    return c.json(event);
  });

  return app;
}
