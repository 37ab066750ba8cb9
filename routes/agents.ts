import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import { TOOL_OUTCOMES } from "../common/agents.ts";
import { LIMITS } from "../common/events.ts";
import { param, pathParams, query } from "./edge/params.ts";

const session = pathParams({ id: param.key });

const toolsQuery = query({
  agent_id: param.text(LIMITS.idLength, " (main for the main agent)"),
  outcome: param.oneOf(TOOL_OUTCOMES),
  tool: param.text(LIMITS.toolLength),
  limit: param.limit(LIMITS.pages.tools),
  /** The newest N calls (still served oldest first), instead of `limit` from the oldest. */
  last: param.integer(1, LIMITS.pages.tools.max, "must be a positive integer"),
}, { only: true });

/**
 * `GET /sessions/:id/tools` (paired tool calls, oldest first; filters `agent_id` — `main` for
 * the main agent —, `outcome`, `tool`, `limit`, or `last` for the newest N) and `GET /sessions/:id/activity` (state and
 * since when).
 */
export function agentRoutes(hw: Deps): Hono {
  const app = new Hono();

  app.get("/sessions/:id/tools", session, toolsQuery, async (c) => {
    const id = c.req.valid("param").id;
    const { agent_id, last, ...filters } = c.req.valid("query");
    const tools = await hw.agents.tools(id, {
      ...filters,
      ...(last === undefined ? {} : { limit: last, newest: true }),
      agent_id: agent_id === "main" ? null : agent_id,
    });
    if (tools.length === 0 && !(await hw.agents.activity(id))) {
      throw new HttpError(404, `no session ${id}`);
    }
    return c.json({ tools });
  });

  app.get("/sessions/:id/activity", session, async (c) => {
    const id = c.req.valid("param").id;
    const activity = await hw.agents.activity(id);
    if (!activity) {
      throw new HttpError(404, `no session ${id}`);
    }
    return c.json(activity);
  });

  return app;
}
