import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";

/**
 * The default Content-Security-Policy: scripts, styles, workers and connections from this origin
 * only; no inline script, no plugins, no framing. A route that needs more sets its own header,
 * which is kept.
 */
export const CONTENT_SECURITY_POLICY = {
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
};

/**
 * Browser hardening on every answer: CSP, `X-Content-Type-Options: nosniff`,
 * `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`. Headers a route set itself win.
 */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    // Plain HTTP on loopback is the common set-up; HSTS belongs to the TLS proxy in front.
    strictTransportSecurity: false,
    overwrite: false,
  });
}

/**
 * CORS for the configured origins only (`CORS_ORIGINS`); with none configured no
 * cross-origin browser request is allowed (no `Access-Control-Allow-Origin` is sent).
 */
export function corsFor(origins: string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  return cors({
    origin: (origin) => allowed.has(origin) ? origin : null,
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
    maxAge: 600,
  });
}
