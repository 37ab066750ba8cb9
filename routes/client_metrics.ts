import { Hono } from "hono";
import {
  ClientMetricsError,
  type ClientMetricsRegistry,
  parseClientReport,
} from "../lib/ingest/client_metrics.ts";
import { EventValidationError } from "../common/events.ts";
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
      const body = parseJson(await readText(c));
      try {
        clients.record(parseClientReport(body));
      } catch (error) {
        // Answered by the app's handler as 400 { error, field }, like a bad event.
        if (error instanceof ClientMetricsError) {
          throw new EventValidationError(error.field, error.message);
        }
        throw error;
      }
      return c.body(null, 204);
    },
  );
  return app;
}
