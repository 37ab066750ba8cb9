/**
 * The token check as middleware, for every route behind it.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { authenticate, unauthorized } from "./auth.ts";

/**
 * Requires the token ({@linkcode authenticate}) when one is configured; the `/health` probes
 * stay open, and a person opening a page without it is sent to the sign-in form.
 */
export function requireToken(token: string | null): MiddlewareHandler {
  const authenticated = authenticate(token);
  return async function requireToken(c, next) {
    if (authenticated(c) || c.req.path.startsWith("/health")) {
      return await next();
    }
    if (
      c.req.method === "GET" && c.req.header("accept")?.includes("text/html")
    ) {
      return c.redirect("/login", 303);
    }
    throw unauthorized();
  };
}
