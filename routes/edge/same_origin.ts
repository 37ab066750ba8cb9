/**
 * Cross-site refusal: for the routes that change something on a person's behalf, and for
 * ingest, which no page of another site may feed.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { HttpError } from "../../common/errors.ts";

/**
 * Refuses a request a browser sent from a page of another site (a form or script elsewhere,
 * riding on the sign-in cookie or on hookwatch being open on loopback): `Sec-Fetch-Site` other
 * than `same-origin` or `none`; from a browser that sends no `Sec-Fetch-Site`, an `Origin` that
 * is not this server's. An `Origin` in `allowed` (`CORS_ORIGINS`) passes. Hooks, exporters,
 * scripts and curl send neither header and pass (they need the token like every route).
 *
 * `Sec-Fetch-Site` decides when present: the dashboard's pages are `no-referrer`, so their
 * own form posts carry `Origin: null`.
 *
 * @throws {HttpError} 403 naming the header.
 */
export function refuseCrossSite(
  c: Context,
  allowed: readonly string[] = [],
): void {
  const origin = c.req.header("origin");
  if (origin !== undefined && allowed.includes(origin)) return;
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined) {
    if (site === "same-origin" || site === "none") return;
    throw new HttpError(
      403,
      `cross-site request refused (Sec-Fetch-Site: ${site})`,
    );
  }
  if (origin !== undefined && origin !== new URL(c.req.url).origin) {
    throw new HttpError(
      403,
      "cross-site request refused (Origin is not this server)",
    );
  }
}

/** {@linkcode refuseCrossSite} as a middleware, with no other origin allowed. */
export function sameOriginOnly(): MiddlewareHandler {
  return async function sameOriginOnly(c, next) {
    refuseCrossSite(c);
    await next();
  };
}
