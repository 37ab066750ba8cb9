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

/** A running in-process hookwatch. */
export interface TestApp {
  /** The origin requests go to (nothing listens there). */
  url: string;
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

/** Starts hookwatch in this process with `env` as its environment (no sweeper). */
export async function startApp(
  env: Record<string, string> = {},
): Promise<TestApp> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-app-" });
  const hw = createHookwatch(
    loadConfig(env),
    SqliteStore.open(`${dir}/hookwatch.db`),
    { sweep: false },
  );
  const app = createApp(hw);
  let logged = "";
  const original = { log: console.log, error: console.error };
  const capture = (write: (...args: unknown[]) => void) =>
  (
    ...args: unknown[]
  ) => {
    logged += args.map(String).join(" ") + "\n";
    write(...args);
  };
  console.log = capture(original.log);
  console.error = capture(original.error);
  const url = "http://hookwatch.test";
  const fetch = (input: string | URL | Request, init?: RequestInit) =>
    Promise.resolve(app.request(input, init));
  return {
    url,
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
      console.log = original.log;
      console.error = original.error;
      await hw.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
