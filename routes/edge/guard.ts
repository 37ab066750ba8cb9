/**
 * The route table of access: every route the app serves, with what it does (an `Action`) or
 * `open`; and the middleware that identifies the request and refuses what its role may not
 * do. `tests/access_roles_test.ts` checks that every route of the app has a rule, so a new
 * route cannot be left unguarded.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Action, Identity } from "../../common/access.ts";
import type { Access } from "../../lib/access/access.ts";
import { authorize, identify, unauthorized } from "./auth.ts";
import { refuseCrossSite } from "./same_origin.ts";

/** One rule: a method, a path as the routes write it, and what it does. */
export interface AccessRule {
  method: string;
  path: string;
  action: Action | "open";
}

const rule = (
  method: string,
  path: string,
  action: Action | "open",
): AccessRule => ({ method, path, action });

/** Every route's rule. */
export const ACCESS_RULES: readonly AccessRule[] = Object.freeze([
  rule("OPTIONS", "/*", "open"),
  rule("GET", "/health", "open"),
  rule("GET", "/health/live", "open"),
  rule("GET", "/health/ready", "open"),
  rule("GET", "/login", "open"),
  rule("GET", "/login.css", "open"),
  rule("POST", "/login", "open"),
  rule("POST", "/logout", "open"),
  rule("POST", "/events", "ingest"),
  rule("POST", "/events/batch", "ingest"),
  rule("POST", "/hooks/:source_app", "ingest"),
  rule("POST", "/hooks/:source_app/decide", "ingest"),
  rule("POST", "/v1/logs", "ingest"),
  rule("POST", "/v1/metrics", "ingest"),
  rule("POST", "/v1/traces", "ingest"),
  rule("POST", "/api/metrics/client", "report"),
  rule("GET", "/metrics", "metrics"),
  rule("GET", "/", "read"),
  rule("GET", "/static/*", "read"),
  rule("GET", "/stream", "read"),
  rule("GET", "/events/recent", "read"),
  rule("GET", "/events/priority", "read"),
  rule("GET", "/events/filter-options", "read"),
  rule("GET", "/events/:id", "read"),
  rule("GET", "/sessions", "read"),
  rule("GET", "/sessions/:id", "read"),
  rule("GET", "/sessions/:id/tools", "read"),
  rule("GET", "/sessions/:id/activity", "read"),
  rule("GET", "/inbox", "read"),
  rule("GET", "/inbox/:id", "read"),
  rule("POST", "/inbox/:id/ack", "act"),
  rule("POST", "/inbox/:id/snooze", "act"),
  rule("POST", "/inbox/:id/decision", "act"),
]);

const compiled = ACCESS_RULES.map((r) => ({
  ...r,
  test: new RegExp(
    `^${
      r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")
        .replace(/\*/g, ".*")
    }$`,
  ),
}));

/** The rule a request falls under; null for a path no route serves (it will be a 404). */
export function ruleFor(method: string, path: string): AccessRule | null {
  const m = method === "HEAD" ? "GET" : method;
  for (const r of compiled) {
    if ((r.method === m) && r.test.test(path)) return r;
  }
  return null;
}

declare module "hono" {
  interface ContextVariableMap {
    /** Who made the request (set by the guard, or by ingest itself). */
    identity: Identity;
  }
}

/**
 * Identifies every request and refuses what its role may not do (401 without a valid token
 * or session, 403 for the wrong role; a person opening a page is sent to the sign-in form).
 * Ingest and actions (ack, snooze, decide) from a page of another site are refused first
 * (`same_origin.ts`; for ingest, `CORS_ORIGINS` count as this site).
 * Open routes pass; a path no rule names needs some identity, then answers 404.
 */
export function guard(
  access: Access,
  corsOrigins: readonly string[],
): MiddlewareHandler {
  return async function guard(c, next) {
    const r = ruleFor(c.req.method, c.req.path);
    if (r?.action === "open") return await next();
    if (r?.action === "metrics") {
      const header = c.req.header("authorization");
      if (
        header?.startsWith("Bearer ") && access.isMetricsToken(header.slice(7))
      ) {
        return await next();
      }
    }
    // Before who it is: a page of another site is refused whoever's cookie it rides on.
    if (r?.action === "ingest") refuseCrossSite(c, corsOrigins);
    else if (r?.action === "act") refuseCrossSite(c);
    const found = identify(access, c, r?.action);
    const identity = found instanceof Promise ? await found : found;
    if (
      identity === null && r?.action === "read" && c.req.method === "GET" &&
      c.req.header("accept")?.includes("text/html") && access.hasTokens
    ) {
      return c.redirect("/login", 303);
    }
    if (r === null) {
      if (identity === null) throw unauthorized();
      c.set("identity", identity);
      return await next();
    }
    c.set("identity", authorize(identity, r.action));
    await next();
  };
}
