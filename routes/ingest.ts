/**
 * The ingest routes (`POST /events`, `/events/batch`, `/hooks/:source_app`) on a lean path:
 * parse → validate → classify → submit → answer. They are mounted ahead of the middleware
 * chain, so the chain's guarantees are kept here in one pass: the token, the body limit and the
 * body deadline are checked inside the handler, and every answer (errors included, which reach
 * the app's one error handler) gets the headers the chain would have set — computed once from
 * the same security and CORS middleware. The request log (every 5xx) runs here too.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Deps } from "../lib/hookwatch.ts";
import {
  eventFromHookInput,
  EventValidationError,
  type NewEvent,
  validateEvent,
} from "../common/events.ts";
import { badParam, parseJson, readBody } from "./body.ts";
import { tokenCheck } from "./auth.ts";
import { corsFor, securityHeaders } from "./security.ts";
import { requestLog } from "./request_log.ts";

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

/** The headers the middleware chain puts on an answer without `Origin`, read from it once. */
async function chainHeaders(origins: string[]): Promise<[string, string][]> {
  const probe = new Hono();
  probe.use(securityHeaders());
  probe.use(corsFor(origins));
  probe.get("/", (c) => c.body(null));
  const res = await probe.request("/");
  return [...res.headers];
}

/**
 * Sets the chain's headers on the answer (a header the route set itself wins), a request id,
 * and `Access-Control-Allow-Origin` for an allowed origin.
 */
function answerHeaders(origins: string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  let base: [string, string][] | null = null;
  const ready = chainHeaders(origins).then((headers) => base = headers);
  return async (c, next) => {
    if (c.req.method !== "POST") return await next();
    const id = crypto.randomUUID();
    c.set("requestId", id);
    await next();
    const headers = c.res.headers;
    for (const [name, value] of base ?? await ready) {
      if (!headers.has(name)) headers.set(name, value);
    }
    headers.set("x-request-id", id);
    const origin = c.req.raw.headers.get("origin");
    if (origin !== null && allowed.has(origin)) {
      headers.set("access-control-allow-origin", origin);
    }
  };
}

const JSON_TYPE = { "content-type": "application/json" };

/** `POST /events`, `/events/batch` and `/hooks/:source_app`, mounted before any middleware. */
export function ingestRoutes(hw: Deps): Hono {
  const app = new Hono();
  const {
    maxBodyBytes,
    maxBatchBytes,
    maxBatchEvents,
    bodyTimeoutMs,
    corsOrigins,
  } = hw.config;
  const authorize = tokenCheck(hw.config.token);
  const headers = answerHeaders(corsOrigins);
  const logged = requestLog();
  for (const path of ["/events", "/events/batch", "/hooks/:source_app"]) {
    app.use(path, headers);
    app.use(path, logged);
  }

  app.post("/events", async (c) => {
    authorize(c);
    const text = await readBody(c.req.raw, maxBodyBytes, bodyTimeoutMs);
    const event = validateEvent(parseJson(text), Date.now());
    const [{ event: stored, duplicate }] = await hw.ingest([event]);
    // What the batch answers per event: echoing the stored event (payload and all) back made
    // every answer as large as its request.
    return new Response(
      `{"id":${stored.id},"priority":${stored.priority},"timestamp":${stored.timestamp},"duplicate":${duplicate}}`,
      { headers: JSON_TYPE },
    );
  });

  app.post("/events/batch", async (c) => {
    authorize(c);
    const events = parseBatch(
      await readBody(c.req.raw, maxBatchBytes, bodyTimeoutMs),
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
    authorize(c);
    const text = await readBody(c.req.raw, maxBodyBytes, bodyTimeoutMs);
    await hw.ingest([
      eventFromHookInput(
        c.req.param("source_app"),
        parseJson(text),
        Date.now(),
      ),
    ]);
    return new Response(null, { status: 204 });
  });

  return app;
}
