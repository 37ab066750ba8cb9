/**
 * Starts hookwatch: `deno task start`. Configuration comes from the environment (docs/CONFIGURATION.md).
 *
 * @module
 */
import { ConfigError, isLoopback, loadConfig } from "./lib/base/config.ts";
import { openStore } from "./lib/store/open_store.ts";
import { createHookwatch } from "./lib/hookwatch.ts";
import { createApp } from "./app.ts";
import { type Metrics, setupMetrics } from "./otel/setup.ts";
import { log, urlPassword } from "./lib/base/log.ts";
import { ensureArchiveDir } from "./lib/store/archive.ts";

async function main(): Promise<void> {
  let config;
  let store;
  let metrics: Metrics;
  // A bad LOG_FORMAT is reported in text; a good one applies to configuration errors already.
  if (Deno.env.get("LOG_FORMAT")?.trim().toLowerCase() === "json") {
    log.configure({ format: "json" });
  }
  try {
    config = loadConfig();
    log.configure({
      format: config.logFormat,
      level: config.logLevel,
      secrets: [
        config.token,
        config.metricsToken,
        urlPassword(config.databaseUrl),
      ],
    });
    const guarded = config.access.admin !== null ||
      config.access.fileTokens.length > 0 || config.access.proxy !== null;
    if (!guarded && !isLoopback(config.host)) {
      log.warn(
        `listening on ${config.host} beyond loopback without HOOKWATCH_TOKEN, HOOKWATCH_TOKENS_FILE or an auth proxy: anyone who can reach the port can read every event`,
        { host: config.host },
      );
    }
    // Bound before the store opens so its first queries are measured.
    metrics = setupMetrics(config, {
      streamStats: () => hw.broadcaster.stats(),
      pool: () => hw.store.poolStats?.() ?? null,
    });
    if (config.archiveDir) await ensureArchiveDir(config.archiveDir);
    store = await openStore(config.databaseUrl);
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error(`bad configuration: ${error.message}`, {
        variable: error.variable,
      });
      Deno.exit(1);
    }
    throw error;
  }
  const hw = createHookwatch(config, store);
  const stopWatching = hw.access.watch();
  const app = createApp(hw, metrics);
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.host,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        const url = `http://${host}:${port}`;
        log.info(`listening on ${url}`, {
          url,
          store: store.kind,
          archive_dir: config.archiveDir ?? undefined,
          pid: Deno.pid,
          deno: Deno.version.deno,
        });
      },
    }, app.fetch);
  } catch (error) {
    const reason = listenFailure(error, config.host, config.port);
    if (reason === null) throw error;
    log.error(`cannot start: ${reason}`, {
      host: config.host,
      port: config.port,
    });
    await hw.close();
    Deno.exit(1);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const start = performance.now();
    log.info(`${signal}, shutting down`, { signal });
    const shutdown = server.shutdown();
    stopWatching();
    await hw.close();
    await metrics.shutdown();
    await shutdown;
    log.info("stopped", {
      signal,
      duration_ms: Math.round(performance.now() - start),
    });
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
}

/** What a person can do about a failed listen, in one line; null for anything unexpected. */
function listenFailure(
  error: unknown,
  host: string,
  port: number,
): string | null {
  if (error instanceof Deno.errors.AddrInUse) {
    return `port ${port} on ${host} is already in use (another hookwatch?): stop what listens there, or start with PORT=<another port>`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `HOST=${host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its own addresses`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `listening on port ${port} needs privileges: start with PORT=<1024 or above>`;
  }
  return null;
}

if (import.meta.main) await main();
