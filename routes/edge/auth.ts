/**
 * The one authentication function: who a request is (a bearer token, the SSO proxy's user
 * header from the proxy's own addresses, or a sign-in session cookie), and whether their role
 * may do what the request does. {@linkcode identify} answers synchronously for a token (the
 * ingest hot path calls it directly); `guard.ts` is the middleware around the same functions.
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { getConnInfo } from "hono/deno";
import { HttpError } from "../../common/errors.ts";
import { type Action, allows, type Identity } from "../../common/access.ts";
import { Access, NO_ROLE } from "../../lib/access/access.ts";

/** Name of the cookie that carries a sign-in session (an opaque id, never the token). */
export const SESSION_COOKIE = "hookwatch_session";

/** The request's peer address ("" when not served by `Deno.serve`, as with `app.request`). */
export function remoteAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "";
  } catch {
    return "";
  }
}

/**
 * Who the request is: null when it presents nothing valid. A bearer token or the proxy's
 * header answers at once; a session cookie takes a database read. For `ingest` only a token
 * counts: events come from hooks and exporters, which send one, never from a browser, so no
 * page can send events on behalf of a person signed in (by cookie or through the proxy).
 *
 * @throws {HttpError} 403 for a proxy user without a role.
 */
export function identify(
  access: Access,
  c: Context,
  action?: Action,
): Identity | null | Promise<Identity | null> {
  if (access.open) return Access.LOCAL;
  const header = c.req.raw.headers.get("authorization");
  if (header !== null && header.startsWith("Bearer ")) {
    return access.identifyToken(header.slice(7));
  }
  if (action === "ingest") return null;
  const proxied = access.identifyProxy(remoteAddress(c), c.req.raw.headers);
  if (proxied === NO_ROLE) {
    throw new HttpError(403, "the proxy's user has no role in hookwatch");
  }
  if (proxied !== null) return proxied;
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie === undefined ? null : access.identifySession(cookie);
}

const WHAT: Record<Action, string> = {
  ingest: "send events",
  read: "read events",
  act: "acknowledge, snooze or decide",
  metrics: "read /metrics",
  report: "report client metrics",
};

/**
 * Refuses a request whose identity may not do `action`: 401 without one, 403 when the role
 * does not allow it.
 */
export function authorize(
  identity: Identity | null,
  action: Action,
): Identity {
  if (identity === null) throw unauthorized();
  if (!allows(identity.role, action)) {
    throw new HttpError(
      403,
      `${identity.name} (${identity.role}) may not ${WHAT[action]}`,
    );
  }
  return identity;
}

/** The 401 a request without a valid token or session gets. */
export function unauthorized(): HttpError {
  return new HttpError(
    401,
    "a valid token is required (Authorization: Bearer …)",
    { headers: { "www-authenticate": "Bearer" } },
  );
}
