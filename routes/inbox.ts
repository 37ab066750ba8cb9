import { type Context, Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import {
  INBOX_KINDS,
  INBOX_STATUSES,
  type InboxItem,
} from "../common/agents.ts";
import { LIMITS } from "../common/events.ts";
import type { ActionRefusal } from "../lib/agents/inbox_actions.ts";
import { ConfigError, parseDuration } from "../lib/base/config.ts";
import { readJson } from "./edge/body.ts";
import { badParam, param, pathParams, query } from "./edge/params.ts";

/** Longest snooze: a week. */
export const SNOOZE_MAX_MS = 7 * 86_400_000;

const STATUSES = ["all", ...INBOX_STATUSES] as const;

const inboxQuery = query({
  status: param.oneOf(
    STATUSES,
    `must be all or one of ${INBOX_STATUSES.join(", ")}`,
  ),
  kind: param.oneOf(INBOX_KINDS),
  session_id: param.text(),
  limit: param.limit(LIMITS.pages.inbox),
}, { only: true });

const item = pathParams({ id: param.id });

/** When a snooze body (`{"until": ms}` or `{"for": "15m"}`) ends. */
function snoozeUntil(body: unknown, now: number): number {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    badParam("body", 'must be {"until": <ms>} or {"for": "15m"}');
  }
  const b = body as Record<string, unknown>;
  const hasUntil = b.until !== undefined;
  const hasFor = b.for !== undefined;
  if (hasUntil === hasFor) {
    badParam("body", 'must have exactly one of "until" (ms) or "for" ("15m")');
  }
  let until: number;
  if (hasUntil) {
    if (typeof b.until !== "number" || !Number.isSafeInteger(b.until)) {
      badParam("until", "must be milliseconds since the epoch");
    }
    until = b.until;
    if (until <= now) badParam("until", "must be in the future");
  } else {
    if (typeof b.for !== "string") {
      badParam("for", 'must be a duration such as "15m"');
    }
    try {
      until = now + parseDuration(b.for, "for");
    } catch (error) {
      if (error instanceof ConfigError) {
        badParam("for", 'must be a duration such as "15m", "2h" or "30s"');
      }
      throw error;
    }
  }
  if (until - now > SNOOZE_MAX_MS) badParam("body", "snoozes at most 7 days");
  return until;
}

/** A decision body: `{"behavior": "allow" | "deny", "message"?: string}`. */
function decisionBody(
  body: unknown,
): { behavior: "allow" | "deny"; message: string | null } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    badParam("body", 'must be {"behavior": "allow" | "deny", "message"?: …}');
  }
  const b = body as Record<string, unknown>;
  if (b.behavior !== "allow" && b.behavior !== "deny") {
    badParam("behavior", 'must be "allow" or "deny"');
  }
  if (
    b.message !== undefined && b.message !== null &&
    (typeof b.message !== "string" || b.message.length > 2000)
  ) {
    badParam("message", "must be a string of at most 2000 characters");
  }
  const message = typeof b.message === "string" && b.message.trim() !== ""
    ? b.message
    : null;
  return { behavior: b.behavior, message };
}

function answer(result: InboxItem | ActionRefusal, id: number): InboxItem {
  if (result === "not_found") {
    throw new HttpError(404, `no inbox item ${id}`);
  }
  if (result === "resolved") {
    throw new HttpError(
      409,
      `inbox item ${id} is resolved: the agent moved on`,
    );
  }
  return result;
}

/**
 * `GET /inbox` (what needs a person, newest first; `status` `all` or one status, default open
 * and snoozed-until-due; `kind`, `session_id`, `limit`), `GET /inbox/:id`,
 * `POST /inbox/:id/ack` and `POST /inbox/:id/snooze` (`{"until": ms}` or `{"for": "15m"}`).
 * Changes reach every dashboard as `inbox` stream frames.
 */
export function inboxRoutes(hw: Deps): Hono {
  const app = new Hono();

  app.get("/inbox", inboxQuery, async (c) => {
    const { status, ...filters } = c.req.valid("query");
    const items = await hw.agents.inbox({
      ...filters,
      status: status ?? "active",
    });
    return c.json({ items });
  });

  app.get("/inbox/:id", item, async (c) => {
    const { id } = c.req.valid("param");
    const found = await hw.agents.item(id);
    if (!found) throw new HttpError(404, `no inbox item ${id}`);
    return c.json(found);
  });

  // A JSON body of at most `maxBytes`; 415 for another type.
  const jsonBody = (c: Context, maxBytes: number) => {
    if (!c.req.header("content-type")?.startsWith("application/json")) {
      throw new HttpError(415, "body must be application/json");
    }
    return readJson(c.req.raw, {
      maxBytes,
      timeoutMs: hw.config.bodyTimeoutMs,
    });
  };

  app.post("/inbox/:id/ack", item, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(answer(await hw.agents.ack(id, c.get("identity").name), id));
  });

  app.post("/inbox/:id/snooze", item, async (c) => {
    const { id } = c.req.valid("param");
    const until = snoozeUntil(await jsonBody(c, 4096), Date.now());
    return c.json(
      answer(await hw.agents.snooze(id, until, c.get("identity").name), id),
    );
  });

  app.post("/inbox/:id/decision", item, async (c) => {
    const { id } = c.req.valid("param");
    if (!hw.config.decisions) {
      throw new HttpError(
        404,
        "decisions are off (set HOOKWATCH_DECISIONS=on)",
      );
    }
    const { behavior, message } = decisionBody(await jsonBody(c, 8192));
    const result = await hw.decisions.decide(
      id,
      behavior,
      message,
      c.get("identity").name,
    );
    if (result === "not_found") {
      throw new HttpError(404, `no inbox item ${id}`);
    }
    if (result === "not_waiting") {
      throw new HttpError(
        409,
        `inbox item ${id} is not waiting for a decision: decided already, its wait ended, or no request holds it`,
      );
    }
    return c.json(result);
  });

  return app;
}
