import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { HttpError } from "../common/errors.ts";
import { createHash, timingSafeEqual } from "node:crypto";

/** Name of the cookie that carries the token for browsers. */
export const TOKEN_COOKIE = "hookwatch_token";

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(
  presented: string | undefined,
  expected: string,
): boolean {
  return presented !== undefined &&
    timingSafeEqual(digest(presented), digest(expected));
}

/**
 * A check for routes outside the middleware chain (ingest): throws the same 401 as
 * {@linkcode requireToken} unless the request presents the token (header or cookie).
 */
export function tokenCheck(token: string | null): (c: Context) => void {
  if (token === null) return () => {};
  const expected = digest(token);
  return (c) => {
    const header = c.req.raw.headers.get("authorization");
    const presented = header?.startsWith("Bearer ")
      ? header.slice(7)
      : getCookie(c, TOKEN_COOKIE);
    if (
      presented === undefined ||
      !timingSafeEqual(digest(presented), expected)
    ) throw unauthorized();
  };
}

function unauthorized(): HttpError {
  return new HttpError(
    401,
    "a valid token is required (Authorization: Bearer …)",
    { headers: { "www-authenticate": "Bearer" } },
  );
}

/**
 * Requires `Authorization: Bearer <token>` (or the token cookie) when a token is configured.
 * `/health/live` and the other probes stay open.
 */
export function requireToken(token: string | null): MiddlewareHandler {
  return async (c, next) => {
    if (token === null || c.req.path.startsWith("/health")) return await next();
    const header = c.req.header("authorization");
    const bearer = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    if (tokenMatches(bearer ?? getCookie(c, TOKEN_COOKIE), token)) {
      return await next();
    }
    // A person opening the dashboard gets the sign-in form rather than a JSON error.
    if (
      c.req.method === "GET" && c.req.header("accept")?.includes("text/html")
    ) {
      return c.redirect("/login", 303);
    }
    throw unauthorized();
  };
}
