/**
 * Roles and what each may do, shared by the server (which refuses) and the dashboard (which
 * hides what the person's role may not do).
 *
 * @module
 */

/** Every role a token or a proxy user can have, least to most. */
export const ROLES = ["ingest", "viewer", "operator", "admin"] as const;

/** One of {@linkcode ROLES}. */
export type Role = (typeof ROLES)[number];

/**
 * What a request does: `ingest` (hook events, telemetry), `read` (the dashboard, every `GET`
 * of the API, the stream), `act` (acknowledge, snooze, decide), `metrics` (`/metrics`),
 * `report` (a dashboard's or a sender's own client metrics: every role may).
 */
export type Action = "ingest" | "read" | "act" | "metrics" | "report";

const ALLOWED: Readonly<Record<Role, readonly Action[]>> = {
  ingest: ["ingest", "report"],
  viewer: ["read", "report"],
  operator: ["read", "act", "report"],
  admin: ["ingest", "read", "act", "metrics", "report"],
};

/** True when `role` may do `action`. */
export function allows(role: Role, action: Action): boolean {
  return ALLOWED[role].includes(action);
}

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}

/** Who is asking: a token's name or a proxy's user, with a role. */
export interface Identity {
  /** The token's name, the proxy user, or `local` when hookwatch asks nobody. */
  name: string;
  role: Role;
  /** How it was established. */
  via: "token" | "session" | "proxy" | "open";
}
