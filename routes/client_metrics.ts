import { Hono } from "hono";
import {
  type ClientMetricsRegistry,
  parseClientReport,
} from "../lib/ingest/client_metrics.ts";
import { readJson } from "./edge/body.ts";

/** Largest client metrics body, bytes: a report is a few hundred. */
export const CLIENT_METRICS_MAX_BYTES = 16 * 1024;

/**
 * `POST /api/metrics/client`: a dashboard's periodic report; 204 when stored. `bodyTimeoutMs`:
 * the body deadline.
 */
export function clientMetricsRoutes(
  clients: ClientMetricsRegistry,
  bodyTimeoutMs: number,
): Hono {
  const app = new Hono();
  const limits = {
    maxBytes: CLIENT_METRICS_MAX_BYTES,
    timeoutMs: bodyTimeoutMs,
  };
  app.post("/api/metrics/client", async (c) => {
    clients.record(parseClientReport(await readJson(c.req.raw, limits)));
    return c.body(null, 204);
  });
  return app;
}
