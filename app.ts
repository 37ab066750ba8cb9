/**
 * The Hono application: middleware, the one error handler, and every route group.
 *
 * @module
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Deps } from "./lib/hookwatch.ts";
import { EventValidationError } from "./common/events.ts";
import { requireToken } from "./routes/auth.ts";
import { eventRoutes } from "./routes/events.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { streamRoutes } from "./routes/stream.ts";
import { healthRoutes } from "./routes/health.ts";
import { otlpRoutes } from "./routes/otlp.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { clientMetricsRoutes } from "./routes/client_metrics.ts";
import { dashboardRoutes } from "./routes/dashboard.tsx";
import { corsFor, securityHeaders } from "./routes/security.ts";
import { bodyTimeout, streamLimits } from "./routes/limits.ts";
import { loginRoutes } from "./routes/login.ts";
import { asStoreUnavailable } from "./lib/store/store_errors.ts";
import type { Metrics } from "./otel/setup.ts";

/** Builds the app around a running {@linkcode Deps}; `/metrics` and client metrics need `metrics`. */
export function createApp(hw: Deps, metrics?: Metrics): Hono {
  const app = new Hono();
  // Ingest first: its lean path keeps the chain's guarantees itself (routes/ingest.ts).
  app.route("/", ingestRoutes(hw));
  app.use(requestId());
  app.use(securityHeaders());
  app.use(corsFor(hw.config.corsOrigins));
  app.use(bodyTimeout(hw.config.bodyTimeoutMs));
  app.onError((error, c) => {
    if (error instanceof EventValidationError) {
      return c.json({ error: error.message, field: error.field }, 400);
    }
    if (error instanceof HTTPException) {
      const headers = Object.fromEntries(
        [...error.res?.headers ?? []].filter(([k]) =>
          !k.startsWith("content-")
        ),
      );
      if (error.status === 401) headers["www-authenticate"] = "Bearer";
      return c.json({ error: error.message }, error.status, headers);
    }
    const unavailable = asStoreUnavailable(error);
    if (unavailable) {
      console.error(
        `request ${
          c.get("requestId")
        } ${c.req.method} ${c.req.path}: ${unavailable.message}`,
      );
      return c.json(
        { error: unavailable.message, request_id: c.get("requestId") },
        503,
        { "retry-after": "5" },
      );
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
  if (hw.config.token !== null) app.route("/", loginRoutes(hw.config.token));
  app.use(requireToken(hw.config.token));
  app.use(
    "/stream",
    streamLimits({
      maxClients: hw.config.streamMaxClients,
      maxPerIp: hw.config.streamMaxClientsPerIp,
    }),
  );
  if (metrics) app.route("/", clientMetricsRoutes(metrics.clients));
  app.route("/", eventRoutes(hw));
  app.route("/", streamRoutes(hw));
  app.route("/", dashboardRoutes(hw));
  app.route("/", otlpRoutes(hw));
  app.route("/", sessionRoutes(hw));
  return app;
}
