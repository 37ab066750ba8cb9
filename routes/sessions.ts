import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import { AGENT_STATES } from "../common/agents.ts";
import { LIMITS } from "../common/events.ts";
import { SESSION_SORTS } from "../lib/sessions/sessions.ts";
import { listSessions, sessionDetail } from "../lib/sessions/views.ts";
import { param, pathParams, query } from "./edge/params.ts";
import { AGENT_NAMES } from "../common/adapters/names.ts";

const listQuery = query({
  limit: param.limit(LIMITS.pages.sessions),
  sort: param.oneOf(SESSION_SORTS),
  order: param.oneOf(["asc", "desc"], "must be asc or desc"),
  state: param.oneOf(AGENT_STATES),
  agent: param.oneOf(AGENT_NAMES),
  source_app: param.text(),
  model: param.text(),
  since: param.integer(0, undefined, "must be milliseconds since the epoch"),
});

/** `GET /sessions` and `GET /sessions/:id`: per-session aggregates. */
export function sessionRoutes(hw: Deps): Hono {
  const app = new Hono();

  app.get("/sessions", listQuery, async (c) => {
    const { sort, order, ...filters } = c.req.valid("query");
    const sessions = await listSessions(hw, {
      ...filters,
      sort: sort ?? "last_seen",
      order: order ?? "desc",
    });
    const totals = { cost_usd: 0, requests: 0, tokens: 0 };
    for (const s of sessions) {
      totals.cost_usd += s.cost_usd;
      totals.requests += s.requests;
      totals.tokens += s.tokens.input + s.tokens.output +
        s.tokens.cache_read + s.tokens.cache_creation;
    }
    totals.cost_usd = Math.round(totals.cost_usd * 1e9) / 1e9;
    return c.json({ sessions, totals });
  });

  app.get("/sessions/:id", pathParams({ id: param.key }), async (c) => {
    const { id } = c.req.valid("param");
    const detail = await sessionDetail(hw, id);
    if (!detail) {
      throw new HttpError(404, `no session ${id}`);
    }
    return c.json(detail);
  });

  return app;
}
