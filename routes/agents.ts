import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import { TOOL_OUTCOMES, type ToolOutcome } from "../common/agents.ts";
import type { ToolQuery } from "../lib/agents/reads.ts";
import { badParam } from "./edge/params.ts";

/** Most tool calls one `GET /sessions/:id/tools` answers. */
export const TOOLS_LIMIT_MAX = 5000;

function sessionId(id: string): string {
  if (id.length === 0 || id.length > 256) {
    badParam("id", "must be 1 to 256 characters");
  }
  return id;
}

function parseToolQuery(q: Record<string, string>): ToolQuery {
  const query: ToolQuery = { limit: 1000 };
  for (const name of Object.keys(q)) {
    if (!["agent_id", "outcome", "tool", "limit"].includes(name)) {
      badParam(name, "is not a filter (agent_id, outcome, tool, limit)");
    }
  }
  if (q.limit !== undefined) {
    const limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      badParam("limit", "must be a positive integer");
    }
    query.limit = Math.min(limit, TOOLS_LIMIT_MAX);
  }
  if (q.agent_id !== undefined) {
    if (q.agent_id.length === 0 || q.agent_id.length > 256) {
      badParam(
        "agent_id",
        "must be 1 to 256 characters (main for the main agent)",
      );
    }
    query.agent_id = q.agent_id === "main" ? null : q.agent_id;
  }
  if (q.outcome !== undefined) {
    if (!(TOOL_OUTCOMES as readonly string[]).includes(q.outcome)) {
      badParam("outcome", `must be one of ${TOOL_OUTCOMES.join(", ")}`);
    }
    query.outcome = q.outcome as ToolOutcome;
  }
  if (q.tool !== undefined) {
    if (q.tool.length === 0 || q.tool.length > 128) {
      badParam("tool", "must be 1 to 128 characters");
    }
    query.tool = q.tool;
  }
  return query;
}

/**
 * `GET /sessions/:id/tools` (paired tool calls, oldest first; filters `agent_id` — `main` for
 * the main agent —, `outcome`, `tool`, `limit`) and `GET /sessions/:id/activity` (state and
 * since when).
 */
export function agentRoutes(hw: Deps): Hono {
  const app = new Hono();

  app.get("/sessions/:id/tools", async (c) => {
    const id = sessionId(c.req.param("id"));
    const query = parseToolQuery(c.req.query());
    const tools = await hw.agents.tools(id, query);
    if (tools.length === 0 && !(await hw.agents.activity(id))) {
      throw new HttpError(404, `no session ${id}`);
    }
    return c.json({ tools });
  });

  app.get("/sessions/:id/activity", async (c) => {
    const id = sessionId(c.req.param("id"));
    const activity = await hw.agents.activity(id);
    if (!activity) {
      throw new HttpError(404, `no session ${id}`);
    }
    return c.json(activity);
  });

  return app;
}
