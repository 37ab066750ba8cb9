/**
 * Starts hookwatch: `deno task start`. Configuration comes from the environment (README).
 *
 * @module
 */
import { ConfigError, loadConfig } from "./lib/base/config.ts";
import { openStore } from "./lib/store/open_store.ts";
import { createHookwatch } from "./lib/hookwatch.ts";
import { createApp } from "./app.ts";
import { type Metrics, setupMetrics } from "./otel/setup.ts";

async function main(): Promise<void> {
  let config;
  let store;
  let metrics: Metrics;
  try {
    config = loadConfig();
    // Bound before the store opens so its first queries are measured.
    metrics = setupMetrics(config, {
      streamStats: () => hw.broadcaster.stats(),
      pool: () => hw.store.poolStats?.() ?? null,
    });
    store = await openStore(config.databaseUrl);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`hookwatch: bad configuration: ${error.message}`);
      Deno.exit(1);
    }
    throw error;
  }
  const hw = createHookwatch(config, store);
  const app = createApp(hw, metrics);
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      console.log(`hookwatch listening on http://${host}:${port}`);
    },
  }, app.fetch);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`hookwatch: ${signal}, shutting down`);
    const shutdown = server.shutdown();
    await hw.close();
    await metrics.shutdown();
    await shutdown;
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
}

if (import.meta.main) await main();
