/**
 * The ingest routes (`POST /events`, `/events/batch`, `/hooks/:source_app`), the hot path:
 * parse → validate → classify → submit → answer. They sit in the one middleware chain right
 * after the answer headers and the request log, ahead of the route guards: each handler calls
 * the same identity check (`edge/auth.ts`) and body reader (`edge/body.ts`) the other routes use,
 * as plain functions, which costs less per event than a middleware frame for each.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { Deps } from "../lib/hookwatch.ts";
import {
  eventFromHookInput,
  EventValidationError,
  type NewEvent,
  validateEvent,
} from "../common/events.ts";
import { parseJson, readText } from "./edge/body.ts";
import { authorize, identify } from "./edge/auth.ts";
import { refuseCrossSite } from "./edge/same_origin.ts";
import { epochNow, stages } from "../lib/base/stages.ts";
import { badParam, param } from "./edge/params.ts";
import {
  AGENT_NAMES,
  type AgentName,
  DEFAULT_AGENT,
} from "../common/adapters/names.ts";

function parseBatch(
  text: string,
  contentType: string | undefined,
  max: number,
): NewEvent[] {
  const now = Date.now();
  const trimmed = text.trimStart();
  const isArray = trimmed.startsWith("[") && !contentType?.includes("ndjson");
  const bodies: unknown[] = [];
  if (isArray) {
    const parsed = parseJson(text);
    if (!Array.isArray(parsed)) {
      badParam("body", "must be a JSON array or NDJSON");
    }
    bodies.push(...parsed);
  } else {
    const lines = text.split("\n");
    lines.forEach((line, index) => {
      if (line.trim() === "") return;
      bodies.push(parseJson(line, `line ${index + 1}`));
    });
  }
  if (bodies.length === 0) badParam("body", "holds no events");
  if (bodies.length > max) badParam("body", `holds more than ${max} events`);
  return bodies.map((body, index) => {
    try {
      return validateEvent(body, now);
    } catch (error) {
      if (error instanceof EventValidationError) {
        throw new EventValidationError(
          `events[${index}].${error.field}`,
          `events[${index}].${error.message}`,
        );
      }
      throw error;
    }
  });
}

/**
 * `?agent=` and `?event=` of a raw hook input's route: which agent posts it (Claude Code when
 * absent; 400 naming `agent` for one hookwatch does not know) and, for inputs that carry no
 * event name (Copilot's camelCase), which event it is.
 */
export function hookQuery(
  query: (name: string) => string | undefined,
): { agent: AgentName; event: string | null } {
  return {
    agent: param.oneOf(AGENT_NAMES)(query("agent"), "agent") ?? DEFAULT_AGENT,
    event: param.hookType(query("event"), "event") ?? null,
  };
}

const JSON_TYPE = { "content-type": "application/json" };

/**
 * `POST /events`, `/events/batch` and `/hooks/:source_app`; mount them after the answer headers
 * and the request log, before the guard (they identify and authorize themselves).
 */
export function ingestRoutes(hw: Deps): Hono {
  const app = new Hono();
  const { maxBodyBytes, maxBatchBytes, maxBatchEvents, bodyTimeoutMs } =
    hw.config;
  const one = { maxBytes: maxBodyBytes, timeoutMs: bodyTimeoutMs };
  const batch = { maxBytes: maxBatchBytes, timeoutMs: bodyTimeoutMs };
  // The guard's functions, called directly: a token answers without a promise.
  const admit = (c: Context) => {
    refuseCrossSite(c, hw.config.corsOrigins);
    const found = identify(hw.access, c, "ingest");
    return found instanceof Promise
      ? found.then((identity) => authorize(identity, "ingest"))
      : authorize(found, "ingest");
  };

  app.post("/events", async (c) => {
    const admitted = admit(c);
    if (admitted instanceof Promise) await admitted;
    const start = stages.on ? epochNow() : 0;
    const text = await readText(c.req.raw, one);
    const body = parseJson(text);
    const parsed = stages.on ? epochNow() : 0;
    const event = validateEvent(body, Date.now());
    if (stages.on) {
      stages.mark(event.event_id, "received", start);
      stages.mark(event.event_id, "parsed", parsed);
      stages.mark(event.event_id, "validated");
    }
    const [{ event: stored, duplicate }] = await hw.ingest([event]);
    // What the batch answers per event: echoing the stored event (payload and all) back made
    // every answer as large as its request.
    return new Response(
      `{"id":${stored.id},"priority":${stored.priority},"timestamp":${stored.timestamp},"duplicate":${duplicate}}`,
      { headers: JSON_TYPE },
    );
  });

  app.post("/events/batch", async (c) => {
    const admitted = admit(c);
    if (admitted instanceof Promise) await admitted;
    const events = parseBatch(
      await readText(c.req.raw, batch),
      c.req.header("content-type"),
      maxBatchEvents,
    );
    const results = await hw.ingest(events);
    return c.json({
      count: results.length,
      events: results.map(({ event, duplicate }) => ({
        id: event.id,
        priority: event.priority,
        timestamp: event.timestamp,
        duplicate,
      })),
    });
  });

  app.post("/hooks/:source_app", async (c) => {
    const admitted = admit(c);
    if (admitted instanceof Promise) await admitted;
    const { agent, event } = hookQuery((name) => c.req.query(name));
    const text = await readText(c.req.raw, one);
    await hw.ingest([
      eventFromHookInput(
        c.req.param("source_app"),
        parseJson(text),
        Date.now(),
        agent,
        event,
      ),
    ]);
    return new Response(null, { status: 204 });
  });

  return app;
}
