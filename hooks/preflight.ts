/**
 * The installer's look at the server before it leaves: does hookwatch answer at the URL the
 * hooks will post to (`GET /health`), and does it want a token the installing shell does not
 * have (an empty `POST /events/batch`, the route the hooks use: the token is checked before the
 * body, so it answers 401 without one, else 400 and stores nothing)? Each problem comes back
 * as a warning in the sender's own words (`status_file.ts`); the install goes ahead either way,
 * since the server may start later.
 *
 * @module
 */

import { DEFAULT_TOKEN_ENV } from "./config.ts";
import { type Failure, failureOf } from "./delivery.ts";
import { describeFailure } from "./status_file.ts";

/** How long each of the two requests may take. */
export const PREFLIGHT_TIMEOUT_MS = 1500;

async function request(
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response | Failure> {
  try {
    return await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return failureOf(error, Date.now());
  }
}

/**
 * Warnings about hookwatch at `serverUrl` for someone about to install hooks that post there;
 * none when it answers and takes `token` (or wants none), which the hooks read from `tokenEnv`.
 * Never throws.
 */
export async function checkServer(
  serverUrl: string,
  token: string | undefined,
  tokenEnv = DEFAULT_TOKEN_ENV,
  timeoutMs = PREFLIGHT_TIMEOUT_MS,
): Promise<string[]> {
  const url = serverUrl.replace(/\/+$/, "");
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    return [`${serverUrl} is not a URL: check --server-url / HOOKWATCH_URL`];
  }
  const net = await Deno.permissions.query({ name: "net", host });
  if (net.state !== "granted") {
    return [
      `did not check whether hookwatch answers at ${url} (no --allow-net for ${host})`,
    ];
  }
  const until =
    "; until it answers, the hooks spool events and replay them later";
  const health = await request(`${url}/health`, {}, timeoutMs);
  if (!(health instanceof Response)) {
    return [
      describeFailure(health, url, token !== undefined, tokenEnv) + until,
    ];
  }
  const body = await health.json().catch(() => null);
  if (![200, 503].includes(health.status) || typeof body?.checks !== "object") {
    return [
      `${url}/health answered ${health.status}, not as hookwatch does — check --server-url / HOOKWATCH_URL`,
    ];
  }
  const warnings = health.status === 503
    ? [`hookwatch at ${url} reports itself unhealthy (GET /health: 503)`]
    : [];
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const ingest = await request(
    `${url}/events/batch`,
    { method: "POST", headers, body: "[]" },
    timeoutMs,
  );
  if (ingest instanceof Response) {
    await ingest.body?.cancel();
    if (ingest.status === 401) {
      warnings.push(describeFailure(
        { at: Date.now(), kind: "http", status: 401, detail: "401" },
        url,
        token !== undefined,
        tokenEnv,
      ));
    }
  }
  return warnings;
}
