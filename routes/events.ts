import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import { eventFromHookInput, LIMITS } from "../common/events.ts";
import { readJson } from "./edge/body.ts";
import {
  badParam,
  type Param,
  param,
  pathParams,
  query,
} from "./edge/params.ts";
import { decisionOutput } from "../lib/agents/decisions.ts";
import { snapshotJson } from "../lib/stream/sse.ts";
import { AGENT_NAMES } from "../common/adapters/names.ts";

const recentQuery = query({
  limit: param.limit(LIMITS.pages.events),
  source_app: param.text(),
  session_id: param.text(),
  hook_event_type: param.hookType,
  priority: param.priority,
  agent: param.oneOf(AGENT_NAMES),
});

/** `?wait=`: a positive number of seconds (a held permission request's wait). */
const waitSeconds: Param<number | undefined> = (raw, name) => {
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    badParam(name, "must be a positive number of seconds");
  }
  return seconds;
};

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
  app.post(
    "/hooks/:source_app/decide",
    // `?agent=` (`?event=` when the input names none) for another agent's request, and the
    // sender's `?event_id=`, so a request it also spooled (no answer in time) is stored once.
    query({
      wait: waitSeconds,
      agent: param.oneOf(AGENT_NAMES),
      event: param.hookType,
      event_id: param.text(),
    }),
    async (c) => {
      const { wait, agent, event: named, event_id } = c.req.valid("query");
      const maxMs = hw.config.decisionWaitMs;
      const waitMs = wait === undefined ? maxMs : Math.min(wait * 1000, maxMs);
      const event = eventFromHookInput(
        c.req.param("source_app"),
        await readJson(c.req.raw, limits),
        Date.now(),
        agent,
        named ?? null,
      );
      if (event_id !== undefined) event.event_id = event_id;
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
      const output = decision && decisionOutput(decision, stored.agent);
      return output ? c.json(output) : c.body(null, 204);
    },
  );

  app.get("/events/recent", recentQuery, async (c) => {
    return c.json(await hw.store.recent(c.req.valid("query")));
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

  app.get("/events/:id", pathParams({ id: param.id }), async (c) => {
    const { id } = c.req.valid("param");
    const event = await hw.store.get(id);
    if (!event) {
      throw new HttpError(404, `no event with id ${id}`);
    }
    return c.json(event);
  });

  return app;
}
