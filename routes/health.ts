import { Hono } from "hono";
import type { Deps } from "../lib/hookwatch.ts";
import { checkDatabase } from "../lib/health.ts";

/** `/health` (the guide's JSON), `/health/live` and `/health/ready` for probes. */
export function healthRoutes(hw: Deps): Hono {
  const app = new Hono();
  app.get("/health", async (c) => {
    const report = await hw.health();
    return c.json(report, report.status === "healthy" ? 200 : 503);
  });
  app.get(
    "/health/live",
    (c) => c.json({ status: "alive", timestamp: Date.now() }),
  );
  app.get("/health/ready", async (c) => {
    const database = await checkDatabase(hw.store);
    const agents = hw.agents.isMigrated ? "ready" : "migrating";
    const ready = !hw.closing && database.status !== "unhealthy" &&
      agents === "ready";
    return c.json(
      {
        status: ready ? "ready" : "not_ready",
        closing: hw.closing,
        database,
        agents,
      },
      ready ? 200 : 503,
    );
  });
  return app;
}
