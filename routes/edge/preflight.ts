/**
 * CORS preflights (`OPTIONS`), answered by Hono's `cors` for the configured origins; the
 * `Access-Control-Allow-Origin` of the answers themselves is set by `answer_headers.ts`.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/**
 * Answers a preflight from a configured origin (`CORS_ORIGINS`) with the methods and headers
 * hookwatch takes; with none configured no cross-origin request is allowed (no
 * `Access-Control-Allow-Origin` is sent). Mount it for `OPTIONS` only.
 */
export function preflight(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  return cors({
    origin: (origin) => allowed.has(origin) ? origin : null,
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
    maxAge: 600,
  });
}
