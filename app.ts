/**
 * The Hono application: middleware, the one error handler, and every route group.
 *
 * @module
 */
import { type ErrorHandler, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import type { Deps } from "./lib/hookwatch.ts";
import { HttpError } from "./common/errors.ts";
import { eventRoutes } from "./routes/events.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { streamRoutes } from "./routes/stream.ts";
import { healthRoutes } from "./routes/health.ts";
import { answersOtlp, otlpErrorAnswer, otlpRoutes } from "./routes/otlp.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { agentRoutes } from "./routes/agents.ts";
import { inboxRoutes } from "./routes/inbox.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { clientMetricsRoutes } from "./routes/client_metrics.ts";
import { dashboardRoutes } from "./routes/dashboard.tsx";
import { staticRoutes } from "./routes/static.ts";
import { loginRoutes } from "./routes/login.ts";
import { answerHeaders } from "./routes/edge/answer_headers.ts";
import { requestLog } from "./routes/edge/request_log.ts";
import { preflight } from "./routes/edge/preflight.ts";
import { guard } from "./routes/edge/guard.ts";
import { streamLimits } from "./routes/edge/stream_limits.ts";
import { asStoreUnavailable } from "./lib/store/store_errors.ts";
import type { Metrics } from "./otel/setup.ts";

/**
 * Whatever was thrown, as the {@linkcode HttpError} it is answered with: its own, a Hono
 * `HTTPException` (from Hono's own middleware) with its status, a storage failure
 * as 503 with `Retry-After`; null for anything else (a bug).
 */
function asHttpError(thrown: unknown): HttpError | null {
  if (thrown instanceof HttpError) return thrown;
  if (thrown instanceof HTTPException) {
    return new HttpError(
      thrown.status,
      thrown.message || `request refused (${thrown.status})`,
    );
  }
  return asStoreUnavailable(thrown);
}

/**
 * The one error mapping: every error answers with its status and headers, as JSON
 * `{ error, field? }` (`{ error, request_id }` for a 5xx; anything not an
 * {@linkcode HttpError} is a 500 "internal error"), or as an OTLP `Status` on the OTLP
 * receivers.
 */
export const answerError: ErrorHandler = (thrown, c) => {
  const error = asHttpError(thrown) ?? new HttpError(500, "internal error");
  const { field, retryAfter, headers: extra } = error.details;
  const headers: Record<string, string> = { ...extra };
  if (retryAfter) headers["retry-after"] = String(retryAfter);
  if (answersOtlp(c)) {
    return otlpErrorAnswer(error, c.req.header("content-type"), headers);
  }
  const body = error.status >= 500
    ? { error: error.message, request_id: c.get("requestId") }
    : field === undefined
    ? { error: error.message }
    : { error: error.message, field };
  return c.json(body, error.status as ContentfulStatusCode, headers);
};

/**
 * Builds the app around a running {@linkcode Deps}; `/metrics` and client metrics need
 * `metrics`. One chain for every route: the answer headers and the request log first, then
 * ingest (the hot path, which identifies and authorizes itself with the same functions), the
 * guard (`routes/edge/guard.ts`: every other route's rule), and the routes.
 */
export function createApp(hw: Deps, metrics?: Metrics): Hono {
  const app = new Hono();
  const { config } = hw;
  app.use(answerHeaders(config.corsOrigins));
  app.use(requestLog());
  app.options("*", preflight(config.corsOrigins));
  app.onError(answerError);
  app.notFound((c) =>
    c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404)
  );

  app.route("/", ingestRoutes(hw));
  app.use(guard(hw.access, config.corsOrigins));
  app.route("/", healthRoutes(hw));
  if (metrics) app.route("/", metricsRoutes(metrics));
  if (hw.access.hasTokens) {
    app.route("/", loginRoutes(hw.access, config.bodyTimeoutMs));
  }
  app.use(
    "/stream",
    streamLimits({
      maxClients: config.streamMaxClients,
      maxPerIp: config.streamMaxClientsPerIp,
    }),
  );
  if (metrics) {
    app.route("/", clientMetricsRoutes(metrics.clients, config.bodyTimeoutMs));
  }
  app.route("/", eventRoutes(hw));
  app.route("/", streamRoutes(hw));
  app.route("/", dashboardRoutes(hw));
  app.route("/", staticRoutes());
  app.route("/", otlpRoutes(hw));
  app.route("/", sessionRoutes(hw));
  app.route("/", agentRoutes(hw));
  app.route("/", inboxRoutes(hw));
  return app;
}
