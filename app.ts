/**
 * The Hono application: middleware, the one error handler, and every route group.
 *
 * @module
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Deps } from "./lib/hookwatch.ts";
import { EventValidationError } from "./lib/events.ts";
import { requireToken } from "./routes/auth.ts";
import { eventRoutes } from "./routes/events.ts";
import { streamRoutes } from "./routes/stream.ts";
import { healthRoutes } from "./routes/health.ts";
import { otlpRoutes } from "./routes/otlp.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { clientMetricsRoutes } from "./routes/client_metrics.ts";
import { dashboardRoutes } from "./routes/dashboard.tsx";
import type { Metrics } from "./otel/setup.ts";

/** Builds the app around a running {@linkcode Deps}; `/metrics` and client metrics need `metrics`. */
export function createApp(hw: Deps, metrics?: Metrics): Hono {
  const app = new Hono();
  app.use(requestId());
  app.onError((error, c) => {
    if (error instanceof EventValidationError) {
      return c.json({ error: error.message, field: error.field }, 400);
    }
    if (error instanceof HTTPException) {
      const headers = error.status === 401
        ? { "www-authenticate": "Bearer" }
        : undefined;
      return c.json({ error: error.message }, error.status, headers);
    }
    console.error(
      `request ${c.get("requestId")} ${c.req.method} ${c.req.path} failed:`,
      error,
    );
    return c.json(
      { error: "internal error", request_id: c.get("requestId") },
      500,
    );
  });
  app.notFound((c) =>
    c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404)
  );

  app.route("/", healthRoutes(hw));
  if (metrics) app.route("/", metricsRoutes(hw, metrics));
  app.use(requireToken(hw.config.token));
  if (metrics) app.route("/", clientMetricsRoutes(metrics.clients));
  app.route("/", eventRoutes(hw));
  app.route("/", streamRoutes(hw));
  app.route("/", dashboardRoutes(hw));
  app.route("/", otlpRoutes(hw));
  app.route("/", sessionRoutes(hw));
  return app;
}
