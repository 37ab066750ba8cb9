import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import { type Metrics, PROMETHEUS_CONTENT_TYPE } from "../otel/setup.ts";

/** `GET /metrics`: Prometheus text exposition (admins, or `HOOKWATCH_METRICS_TOKEN`). */
export function metricsRoutes(metrics: Metrics): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    const text = await metrics.scrape();
    if (text === null) {
      throw new HttpError(
        404,
        "metrics are turned off (HOOKWATCH_METRICS=off)",
      );
    }
    return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
