/**
 * The one token check: `Authorization: Bearer <token>` or the sign-in cookie, compared in
 * constant time. {@linkcode authenticate} is a plain function, so ingest's hot path calls it
 * directly; `require_token.ts` is the middleware around the same function.
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "../../common/errors.ts";

/** Name of the cookie that carries the token for browsers. */
export const TOKEN_COOKIE = "hookwatch_token";

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}

/** A constant-time comparison of a presented token with `token`. */
export function tokenMatcher(
  token: string,
): (presented: string | undefined) => boolean {
  const expected = digest(token);
  return (presented) =>
    presented !== undefined && timingSafeEqual(digest(presented), expected);
}

/**
 * Whether a request presents `token` (the bearer header, else the cookie); with no token
 * configured every request does.
 */
export function authenticate(token: string | null): (c: Context) => boolean {
  if (token === null) return () => true;
  const matches = tokenMatcher(token);
  return (c) => {
    const header = c.req.raw.headers.get("authorization");
    return matches(
      header?.startsWith("Bearer ")
        ? header.slice(7)
        : getCookie(c, TOKEN_COOKIE),
    );
  };
}

/** The 401 a request without the token gets. */
export function unauthorized(): HttpError {
  return new HttpError(
    401,
    "a valid token is required (Authorization: Bearer …)",
    { headers: { "www-authenticate": "Bearer" } },
  );
}
