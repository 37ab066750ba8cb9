/**
 * The headers every answer carries, set by one middleware in front of every route (ingest's
 * hot path included): a request id, the browser hardening below, and CORS for the configured
 * origins. The list is a constant built once; a header a route set itself wins.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/**
 * The default Content-Security-Policy: scripts, styles, workers and connections from this origin
 * only; no inline script, no plugins, no framing. A route that needs more sets its own header,
 * which is kept.
 */
export const CONTENT_SECURITY_POLICY: Readonly<Record<string, string[]>> =
  Object.freeze({
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    workerSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  });

const kebab = (name: string) =>
  name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/**
 * Browser hardening on every answer: CSP, `X-Content-Type-Options: nosniff`,
 * `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`, same-origin opener and resource
 * policies, and the rest of what Hono's `secureHeaders` sets by default (HSTS left to the TLS
 * proxy in front: plain HTTP on loopback is the common set-up). `Vary: Origin` because the
 * CORS answer depends on it.
 */
export const ANSWER_HEADERS: readonly (readonly [string, string])[] = Object
  .freeze([
    [
      "content-security-policy",
      Object.entries(CONTENT_SECURITY_POLICY)
        .map(([name, values]) => `${kebab(name)} ${values.join(" ")}`)
        .join("; "),
    ],
    ["cross-origin-opener-policy", "same-origin"],
    ["cross-origin-resource-policy", "same-origin"],
    ["origin-agent-cluster", "?1"],
    ["referrer-policy", "no-referrer"],
    ["vary", "Origin"],
    ["x-content-type-options", "nosniff"],
    ["x-dns-prefetch-control", "off"],
    ["x-download-options", "noopen"],
    ["x-frame-options", "DENY"],
    ["x-permitted-cross-domain-policies", "none"],
    ["x-xss-protection", "0"],
  ]);

/** A request id a client may bring (`X-Request-Id`), as Hono's `requestId` accepts one. */
const CLIENT_ID = /^[\w\-=]{1,255}$/;

/**
 * Sets `c.get("requestId")` (the client's `X-Request-Id` when it is a plain token, else a new
 * UUID), then puts {@linkcode ANSWER_HEADERS} (unless the route set them), `X-Request-Id` and,
 * for an allowed `Origin`, `Access-Control-Allow-Origin` on the answer, errors included.
 * Preflights are `preflight.ts`'s.
 */
export function answerHeaders(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  return async function answerHeaders(c, next) {
    const request = c.req.raw.headers;
    const given = request.get("x-request-id");
    const id = given !== null && CLIENT_ID.test(given)
      ? given
      : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    const headers = c.res.headers;
    for (const [name, value] of ANSWER_HEADERS) {
      if (!headers.has(name)) headers.set(name, value);
    }
    headers.set("x-request-id", id);
    const origin = request.get("origin");
    if (origin !== null && allowed.has(origin)) {
      headers.set("access-control-allow-origin", origin);
    }
  };
}

declare module "hono" {
  interface ContextVariableMap {
    /** Set by {@linkcode answerHeaders}: this request's id, in its answer and its log lines. */
    requestId: string;
  }
}
