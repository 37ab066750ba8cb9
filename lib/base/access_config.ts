/**
 * Who may do what, from the environment: named tokens with roles (`HOOKWATCH_TOKENS_FILE`, and
 * `HOOKWATCH_TOKEN` as one admin token named `admin`), a separate `/metrics` token, an SSO
 * proxy's user header trusted from given addresses, and how long a sign-in lasts. A bad file
 * or value stops start-up (or a reload) with a message naming the entry; no token or hash is
 * ever part of a message.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { isRole, type Role, ROLES } from "../../common/access.ts";
import { ConfigError, parseDuration } from "./config_values.ts";
import { type Cidr, parseCidr } from "./cidr.ts";

/** One named token: its role and the SHA-256 (hex) of the token. */
export interface TokenEntry {
  name: string;
  role: Role;
  sha256: string;
}

/** An SSO proxy in front of hookwatch, naming the user in a header. */
export interface ProxyConfig {
  /** Lower-case header name, e.g. `x-forwarded-user`. */
  header: string;
  /** Only requests from these addresses may name a user. */
  from: Cidr[];
  /** Roles by user name. */
  roles: ReadonlyMap<string, Role>;
  /** The role of every other user (`"*"`); null refuses them. */
  others: Role | null;
}

/** The access settings. */
export interface AccessConfig {
  /** `HOOKWATCH_TOKENS_FILE`, re-read on SIGHUP or when it changes; null without one. */
  tokensFile: string | null;
  /** The tokens file's entries at start-up. */
  fileTokens: TokenEntry[];
  /** `HOOKWATCH_TOKEN`, as the admin token named `admin`. */
  admin: TokenEntry | null;
  /** SHA-256 of `HOOKWATCH_METRICS_TOKEN`: it opens `/metrics` only. */
  metricsToken: string | null;
  proxy: ProxyConfig | null;
  /** How long a sign-in cookie stays valid (`HOOKWATCH_SESSION_TTL`, 7 days). */
  sessionTtlMs: number;
}

/** SHA-256 of a token, hex. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * The entries of a tokens file: `{"tokens": [{"name", "role", "token" | "sha256"}]}`.
 *
 * @throws {ConfigError} naming the file and the entry.
 */
export function parseTokens(text: string, path: string): TokenEntry[] {
  const fail = (where: string, message: string): never => {
    throw new ConfigError(
      "HOOKWATCH_TOKENS_FILE",
      `${path}: ${where}${message}`,
    );
  };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    fail("", `is not JSON (${(error as Error).message})`);
  }
  const list = (body as { tokens?: unknown })?.tokens;
  if (!Array.isArray(list)) fail("", `must be {"tokens": [...]}`);
  const names = new Set<string>();
  const hashes = new Set<string>();
  return (list as unknown[]).map((raw, i) => {
    const entry = raw as Record<string, unknown>;
    const where = `tokens[${i}]${
      typeof entry?.name === "string" ? ` (${entry.name})` : ""
    }: `;
    if (typeof entry !== "object" || entry === null) {
      fail(where, "must be an object");
    }
    if (typeof entry.name !== "string" || !NAME.test(entry.name)) {
      fail(where, "name must be 1 to 64 letters, digits, . _ @ -");
    }
    if (!isRole(entry.role)) {
      fail(where, `role must be one of ${ROLES.join(", ")}`);
    }
    const clear = entry.token;
    const given = entry.sha256;
    if ((clear === undefined) === (given === undefined)) {
      fail(where, "needs exactly one of token and sha256");
    }
    if (
      clear !== undefined && (typeof clear !== "string" || clear.length < 8)
    ) {
      fail(where, "token must be at least 8 characters");
    }
    if (
      given !== undefined &&
      (typeof given !== "string" || !/^[0-9a-fA-F]{64}$/.test(given))
    ) fail(where, "sha256 must be 64 hex digits");
    const sha256 = clear !== undefined
      ? tokenHash(clear as string)
      : (given as string).toLowerCase();
    const name = entry.name as string;
    if (names.has(name)) fail(where, "a second entry with this name");
    if (hashes.has(sha256)) fail(where, "the same token as an earlier entry");
    names.add(name);
    hashes.add(sha256);
    return { name, role: entry.role as Role, sha256 };
  });
}

/** The tokens file's entries (none without a file). */
export function readTokenFile(path: string | null): TokenEntry[] {
  if (path === null) return [];
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new ConfigError(
      "HOOKWATCH_TOKENS_FILE",
      `${path} cannot be read: ${(error as Error).message}`,
    );
  }
  return parseTokens(text, path);
}

/**
 * The file's entries with `HOOKWATCH_TOKEN`'s admin entry (when set).
 *
 * @throws {ConfigError} when a file entry has its name or its token.
 */
export function withAdmin(
  entries: TokenEntry[],
  admin: TokenEntry | null,
  path: string | null,
): TokenEntry[] {
  if (admin === null) return entries;
  const clash = entries.find((e) =>
    e.name === admin.name || e.sha256 === admin.sha256
  );
  if (clash) {
    throw new ConfigError(
      "HOOKWATCH_TOKENS_FILE",
      `${path}: entry ${clash.name} clashes with HOOKWATCH_TOKEN (named admin)`,
    );
  }
  return [...entries, admin];
}

function parseProxy(
  env: Record<string, string | undefined>,
): ProxyConfig | null {
  const header = env.HOOKWATCH_AUTH_PROXY_HEADER?.trim();
  if (!header) return null;
  if (!/^[A-Za-z0-9-]+$/.test(header)) {
    throw new ConfigError(
      "HOOKWATCH_AUTH_PROXY_HEADER",
      `"${header}" is not a header name`,
    );
  }
  const fromText = env.HOOKWATCH_AUTH_PROXY_FROM?.trim();
  if (!fromText) {
    throw new ConfigError(
      "HOOKWATCH_AUTH_PROXY_FROM",
      "is required with HOOKWATCH_AUTH_PROXY_HEADER: the proxy's addresses (CIDR list)",
    );
  }
  const from = fromText.split(",").map((part) => {
    const cidr = parseCidr(part);
    if (!cidr) {
      throw new ConfigError(
        "HOOKWATCH_AUTH_PROXY_FROM",
        `"${part.trim()}" is not an address or CIDR range`,
      );
    }
    return cidr;
  });
  let table: unknown;
  try {
    table = JSON.parse(env.HOOKWATCH_AUTH_PROXY_ROLES ?? "{}");
  } catch {
    throw new ConfigError(
      "HOOKWATCH_AUTH_PROXY_ROLES",
      'must be JSON: {"ann": "operator", "*": "viewer"}',
    );
  }
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw new ConfigError(
      "HOOKWATCH_AUTH_PROXY_ROLES",
      "must be an object of user name → role",
    );
  }
  const roles = new Map<string, Role>();
  let others: Role | null = null;
  for (const [user, role] of Object.entries(table)) {
    if (!isRole(role)) {
      throw new ConfigError(
        "HOOKWATCH_AUTH_PROXY_ROLES",
        `${user}: role must be one of ${ROLES.join(", ")}`,
      );
    }
    if (user === "*") others = role;
    else roles.set(user, role);
  }
  return { header: header.toLowerCase(), from, roles, others };
}

/**
 * Reads the access settings.
 *
 * @throws {ConfigError} naming the first bad variable or tokens-file entry.
 */
export function loadAccessConfig(
  env: Record<string, string | undefined>,
): AccessConfig {
  const tokensFile = env.HOOKWATCH_TOKENS_FILE?.trim() || null;
  const admin = env.HOOKWATCH_TOKEN || null;
  if (admin !== null && admin.length < 8) {
    throw new ConfigError("HOOKWATCH_TOKEN", "must be at least 8 characters");
  }
  if (env.HOOKWATCH_METRICS_TOKEN && env.HOOKWATCH_METRICS_TOKEN.length < 8) {
    throw new ConfigError(
      "HOOKWATCH_METRICS_TOKEN",
      "must be at least 8 characters",
    );
  }
  const metrics = env.HOOKWATCH_METRICS_TOKEN || null;
  const adminEntry: TokenEntry | null = admin === null
    ? null
    : { name: "admin", role: "admin", sha256: tokenHash(admin) };
  const fileTokens = readTokenFile(tokensFile);
  withAdmin(fileTokens, adminEntry, tokensFile);
  return {
    tokensFile,
    fileTokens,
    admin: adminEntry,
    metricsToken: metrics === null ? null : tokenHash(metrics),
    proxy: parseProxy(env),
    sessionTtlMs: parseDuration(
      env.HOOKWATCH_SESSION_TTL ?? "7d",
      "HOOKWATCH_SESSION_TTL",
    ),
  };
}
