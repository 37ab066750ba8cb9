import { Hono } from "hono";
import { HttpError } from "../common/errors.ts";
import type { Deps } from "../lib/hookwatch.ts";
import { type Metrics, PROMETHEUS_CONTENT_TYPE } from "../otel/setup.ts";
import { requireToken } from "./edge/require_token.ts";

/** `GET /metrics`: Prometheus text exposition, behind `HOOKWATCH_METRICS_TOKEN` (else the token) when set. */
export function metricsRoutes(hw: Deps, metrics: Metrics): Hono {
  const app = new Hono();
  app.get("/metrics", requireToken(hw.config.metricsToken), async (c) => {
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
