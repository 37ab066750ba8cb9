import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import { AGENT_STATES, type AgentState } from "../common/agents.ts";
import { SESSION_SORTS } from "../lib/sessions/sessions.ts";
import {
  listSessions,
  sessionDetail,
  type SessionListQuery,
} from "../lib/sessions/views.ts";
import { badParam } from "./edge/params.ts";

/** Largest `limit` on `GET /sessions`. */
export const SESSIONS_LIMIT_MAX = 1000;

function parseQuery(q: Record<string, string>): SessionListQuery {
  const query: SessionListQuery = {
    limit: 100,
    sort: "last_seen",
    order: "desc",
  };
  if (q.limit !== undefined) {
    const limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      badParam("limit", "must be a positive integer");
    }
    query.limit = Math.min(limit, SESSIONS_LIMIT_MAX);
  }
  if (q.sort !== undefined) {
    if (!(SESSION_SORTS as readonly string[]).includes(q.sort)) {
      badParam("sort", `must be one of ${SESSION_SORTS.join(", ")}`);
    }
    query.sort = q.sort as SessionListQuery["sort"];
  }
  if (q.order !== undefined) {
    if (q.order !== "asc" && q.order !== "desc") {
      badParam("order", "must be asc or desc");
    }
    query.order = q.order;
  }
  if (q.state !== undefined) {
    if (!(AGENT_STATES as readonly string[]).includes(q.state)) {
      badParam("state", `must be one of ${AGENT_STATES.join(", ")}`);
    }
    query.state = q.state as AgentState;
  }
  for (const name of ["source_app", "model"] as const) {
    const value = q[name];
    if (value === undefined) continue;
    if (value.length === 0 || value.length > 256) {
      badParam(name, "must be 1 to 256 characters");
    }
    query[name] = value;
  }
  if (q.since !== undefined) {
    const since = Number(q.since);
    if (!Number.isSafeInteger(since) || since < 0) {
      badParam("since", "must be milliseconds since the epoch");
    }
    query.since = since;
  }
  return query;
}

/** `GET /sessions` and `GET /sessions/:id`: per-session aggregates. */
export function sessionRoutes(hw: Deps): Hono {
  const app = new Hono();

  app.get("/sessions", async (c) => {
    const sessions = await listSessions(hw, parseQuery(c.req.query()));
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

  app.get("/sessions/:id", async (c) => {
    const id = c.req.param("id");
    if (id.length === 0 || id.length > 256) {
      badParam("id", "must be 1 to 256 characters");
    }
    const detail = await sessionDetail(hw, id);
    if (!detail) {
      throw new HttpError(404, `no session ${id}`);
    }
    return c.json(detail);
  });

  return app;
}
