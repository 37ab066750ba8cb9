/**
 * hookwatch in-process for route tests that need no socket: the real app (`createApp`) around
 * a real SQLite file, called through `app.request()`. Same answers as a server on a port, in
 * milliseconds and with no process to start; `fetch`/`postJson` take full URLs under `url` so a
 * test reads like one against a real server.
 *
 * @module
 */
import type { Hono } from "hono";
import { createApp } from "../../app.ts";
import { loadConfig } from "../../lib/base/config.ts";
import { createHookwatch, type Hookwatch } from "../../lib/hookwatch.ts";
import { SqliteStore } from "../../lib/store/sqlite_store.ts";
import { setupMetrics } from "../../otel/setup.ts";

/** A running in-process hookwatch. */
export interface TestApp {
  /** The origin requests go to (nothing listens there). */
  url: string;
  /** The SQLite file. */
  dbPath: string;
  hw: Hookwatch;
  app: Hono;
  /** `fetch` served by the app itself. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** POSTs JSON and returns status and parsed body (null when empty). */
  postJson(
    url: string,
    body: unknown,
    headers?: Record<string, string>,
    // deno-lint-ignore no-explicit-any -- tests read arbitrary JSON answers
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Everything the app logged since it started. */
  output(): string;
  /** Closes the domain and the store, removes the database. */
  close(): Promise<void>;
}

// Console output goes to every app running in this process (they share one console).
const listeners = new Set<(line: string) => void>();
const original = { log: console.log, error: console.error };

function listen(listener: (line: string) => void): void {
  if (listeners.size === 0) {
    for (const name of ["log", "error"] as const) {
      console[name] = (...args: unknown[]) => {
        const line = args.map(String).join(" ") + "\n";
        for (const l of listeners) l(line);
        original[name](...args);
      };
    }
  }
  listeners.add(listener);
}

function unlisten(listener: (line: string) => void): void {
  listeners.delete(listener);
  if (listeners.size === 0) Object.assign(console, original);
}

/** Options for {@linkcode startApp}. */
export interface AppOptions {
  /**
   * Serve `/metrics` and `POST /api/metrics/client` as `main.ts` does (the instruments are
   * the process's, so one such app at a time).
   */
  metrics?: boolean;
}

/** Starts hookwatch in this process with `env` as its environment (no sweeper). */
export async function startApp(
  env: Record<string, string> = {},
  options: AppOptions = {},
): Promise<TestApp> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-app-" });
  const dbPath = `${dir}/hookwatch.db`;
  const config = loadConfig(env);
  const metrics = options.metrics
    ? setupMetrics(config, { streamStats: () => hw.broadcaster.stats() }, env)
    : undefined;
  const hw = createHookwatch(config, SqliteStore.open(dbPath), {
    sweep: false,
  });
  const app = createApp(hw, metrics);
  let logged = "";
  const listener = (line: string) => logged += line;
  listen(listener);
  const url = "http://hookwatch.test";
  const fetch = (input: string | URL | Request, init?: RequestInit) =>
    Promise.resolve(app.request(input, init));
  return {
    url,
    dbPath,
    hw,
    app,
    fetch,
    async postJson(target, body, headers = {}) {
      const res = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: text ? JSON.parse(text) : null,
        headers: res.headers,
      };
    },
    output: () => logged,
    async close() {
      unlisten(listener);
      await hw.close();
      await metrics?.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
