import { Hono } from "hono";
import {
  type ClientMetricsRegistry,
  parseClientReport,
} from "../lib/ingest/client_metrics.ts";
import { limitBody, parseJson, readText } from "./body.ts";

/** Largest client metrics body, bytes: a report is a few hundred. */
export const CLIENT_METRICS_MAX_BYTES = 16 * 1024;

/** `POST /api/metrics/client`: a dashboard's periodic report; 204 when stored. */
export function clientMetricsRoutes(clients: ClientMetricsRegistry): Hono {
  const app = new Hono();
  app.post(
    "/api/metrics/client",
    limitBody(CLIENT_METRICS_MAX_BYTES),
    async (c) => {
      clients.record(parseClientReport(parseJson(await readText(c))));
      return c.body(null, 204);
    },
  );
  return app;
}
