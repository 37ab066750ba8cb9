/**
 * The Hono application: middleware, the one error handler, and every route group.
 *
 * @module
 */
import { type ErrorHandler, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Deps } from "./lib/hookwatch.ts";
import { HttpError } from "./common/errors.ts";
import { OtlpError, otlpErrorResponse } from "./lib/telemetry/otlp.ts";
import { requireToken } from "./routes/auth.ts";
import { eventRoutes } from "./routes/events.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { streamRoutes } from "./routes/stream.ts";
import { healthRoutes } from "./routes/health.ts";
import { otlpRoutes } from "./routes/otlp.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { agentRoutes } from "./routes/agents.ts";
import { inboxRoutes } from "./routes/inbox.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { clientMetricsRoutes } from "./routes/client_metrics.ts";
import { dashboardRoutes } from "./routes/dashboard.tsx";
import { corsFor, securityHeaders } from "./routes/security.ts";
import { bodyTimeout, streamLimits } from "./routes/limits.ts";
import { loginRoutes } from "./routes/login.ts";
import { requestLog } from "./routes/request_log.ts";
import { asStoreUnavailable } from "./lib/store/store_errors.ts";
import type { Metrics } from "./otel/setup.ts";

/**
 * The one error mapping: a domain {@linkcode HttpError} answers with its own status (OTLP
 * errors as an OTLP Status), a Hono `HTTPException` with its status, a storage failure 503
 * with `Retry-After`, anything else 500 with a request id. Bodies are JSON `{ error }`.
 */
export const answerError: ErrorHandler = (thrown, c) => {
  const error = thrown instanceof HttpError
    ? thrown
    : asStoreUnavailable(thrown) ?? thrown;
  if (error instanceof OtlpError) {
    return otlpErrorResponse(error, c.req.header("content-type"));
  }
  if (error instanceof HttpError) {
    const { field, retryAfter } = error.details;
    const headers: Record<string, string> = {};
    if (retryAfter) headers["retry-after"] = String(retryAfter);
    if (error.status < 500) {
      return c.json(
        field === undefined
          ? { error: error.message }
          : { error: error.message, field },
        error.status,
        headers,
      );
    }
    return c.json(
      { error: error.message, request_id: c.get("requestId") },
      error.status,
      headers,
    );
  }
  if (error instanceof HTTPException) {
    const headers = Object.fromEntries(
      [...error.res?.headers ?? []].filter(([k]) => !k.startsWith("content-")),
    );
    if (error.status === 401) headers["www-authenticate"] = "Bearer";
    return c.json({ error: error.message }, error.status, headers);
  }
  return c.json(
    { error: "internal error", request_id: c.get("requestId") },
    500,
  );
};

/** Builds the app around a running {@linkcode Deps}; `/metrics` and client metrics need `metrics`. */
export function createApp(hw: Deps, metrics?: Metrics): Hono {
  const app = new Hono();
  // Ingest first: its lean path keeps the chain's guarantees itself (routes/ingest.ts).
  app.route("/", ingestRoutes(hw));
  app.use(requestId());
  app.use(requestLog());
  app.use(securityHeaders());
  app.use(corsFor(hw.config.corsOrigins));
  app.use(bodyTimeout(hw.config.bodyTimeoutMs));
  app.onError(answerError);
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
  app.route("/", agentRoutes(hw));
  app.route("/", inboxRoutes(hw));
  return app;
}
