/**
 * Who is asking, and whether they still may: named tokens (compared by their SHA-256, so in
 * constant time and never logged), sign-in sessions (an opaque cookie bound to a token's name
 * and role, stored hashed in the database so every replica knows it, expiring, revoked the
 * moment its token leaves the file), and an SSO proxy's user header, trusted only from the
 * proxy's addresses. The tokens file is re-read on demand ({@linkcode Access.reload}: on
 * SIGHUP or when the file changes); listeners hear which names lost access.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { allows, type Identity, type Role } from "../../common/access.ts";
import {
  type AccessConfig,
  readTokenFile,
  type TokenEntry,
  tokenHash,
  withAdmin,
} from "../base/access_config.ts";
import { cidrContains } from "../base/cidr.ts";
import { ConfigError } from "../base/config_values.ts";
import { errorFields, log } from "../base/log.ts";
import { type Db, q, type Row, type Tx } from "../store/db.ts";
import { whileUnavailable } from "../store/store_errors.ts";

/** The sign-in sessions' table, for each database. */
const MIGRATIONS = {
  sqlite: [
    `CREATE TABLE access_sessions (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       role TEXT NOT NULL,
       token_sha256 TEXT NOT NULL,
       expires_at INTEGER NOT NULL
     );
     CREATE INDEX access_sessions_expiry ON access_sessions (expires_at);`,
  ],
  postgres: [
    `CREATE TABLE access_sessions (
       id text PRIMARY KEY,
       name text NOT NULL,
       role text NOT NULL,
       token_sha256 text NOT NULL,
       expires_at bigint NOT NULL
     );
     CREATE INDEX access_sessions_expiry ON access_sessions (expires_at);`,
  ],
};

/** Who may sign in and what a sign-in gives. */
export interface SignIn {
  /** The cookie's value: random, opaque, only its hash is stored. */
  cookie: string;
  identity: Identity;
  expiresAt: number;
}

/** Why a proxy user was refused (the header was trusted, the user has no role). */
export const NO_ROLE = "no_role" as const;

const sessionId = (cookie: string) =>
  createHash("sha256").update(cookie).digest("hex");

const same = (a: string, b: string) =>
  a.length === b.length &&
  timingSafeEqual(new TextEncoder().encode(a), new TextEncoder().encode(b));

/**
 * Identities from tokens, sign-in sessions and the proxy.
 *
 * @example
 * ```ts
 * const access = new Access(config.access, store.db);
 * access.identifyToken(bearer); // { name: "laptop-hooks", role: "ingest", via: "token" } or null
 * ```
 */
export class Access {
  readonly #config: AccessConfig;
  readonly #db: Db;
  #bySha = new Map<string, TokenEntry>();
  #byName = new Map<string, TokenEntry>();
  readonly #revoked: ((names: ReadonlySet<string>) => void)[] = [];
  /** One controller per name that something holds open (a stream), aborted at its revocation. */
  readonly #holds = new Map<string, AbortController>();
  #closed = false;
  /** Resolves once the sessions table exists (retrying while the database is away). */
  readonly ready: Promise<void>;

  constructor(config: AccessConfig, db: Db) {
    this.#config = config;
    this.#db = db;
    this.#use(withAdmin(config.fileTokens, config.admin, config.tokensFile));
    this.ready = whileUnavailable(() => db.migrate("access", MIGRATIONS), {
      message: "sign-in table not created yet, the database is away; retrying",
      stopped: () => this.#closed,
    });
    this.ready.catch((error) =>
      log.error("sign-in table not created", errorFields(error))
    );
  }

  /** True when nothing is configured: everyone is the admin `local` (hookwatch on loopback). */
  get open(): boolean {
    return this.#bySha.size === 0 && this.#config.proxy === null;
  }

  /** True when signing in with a token can work (some token is configured). */
  get hasTokens(): boolean {
    return this.#bySha.size > 0;
  }

  /** The identity of everyone when {@linkcode open}. */
  static readonly LOCAL: Identity = Object.freeze({
    name: "local",
    role: "admin" as Role,
    via: "open" as const,
  });

  #use(tokens: readonly TokenEntry[]): void {
    this.#bySha = new Map(tokens.map((t) => [t.sha256, t]));
    this.#byName = new Map(tokens.map((t) => [t.name, t]));
  }

  /** The token's identity, or null (its SHA-256 is looked up, then compared in constant time). */
  identifyToken(token: string): Identity | null {
    const sha = tokenHash(token);
    const entry = this.#bySha.get(sha);
    if (!entry || !same(entry.sha256, sha)) return null;
    return { name: entry.name, role: entry.role, via: "token" };
  }

  /** True when `token` is `HOOKWATCH_METRICS_TOKEN` (it opens `/metrics` only). */
  isMetricsToken(token: string): boolean {
    const expected = this.#config.metricsToken;
    return expected !== null && same(expected, tokenHash(token));
  }

  /**
   * The proxy user's identity: null when there is no proxy, the request is not from the
   * proxy's addresses (the header is ignored) or names nobody; {@linkcode NO_ROLE} when the
   * header is trusted but the user has no role.
   */
  identifyProxy(
    remoteAddress: string,
    headers: Headers,
  ): Identity | typeof NO_ROLE | null {
    const proxy = this.#config.proxy;
    if (!proxy) return null;
    const user = headers.get(proxy.header)?.trim();
    if (!user) return null;
    if (!proxy.from.some((range) => cidrContains(range, remoteAddress))) {
      return null;
    }
    const role = proxy.roles.get(user) ?? proxy.others;
    return role === null ? NO_ROLE : { name: user, role, via: "proxy" };
  }

  /**
   * Signs in with a token: a new session cookie bound to its name and role, or null for an
   * unknown token and for one whose role opens no page (`ingest`: hooks send it, nobody reads
   * with it).
   */
  async signIn(token: string, now = Date.now()): Promise<SignIn | null> {
    const identity = this.identifyToken(token);
    if (!identity || !allows(identity.role, "read")) return null;
    await this.ready;
    const cookie = randomBytes(32).toString("base64url");
    const expiresAt = now + this.#config.sessionTtlMs;
    const entry = this.#byName.get(identity.name)!;
    await this.#db.write(function* (): Tx<void> {
      yield q("DELETE FROM access_sessions WHERE expires_at <= ?", now);
      yield q(
        `INSERT INTO access_sessions (id, name, role, token_sha256, expires_at)
         VALUES (?, ?, ?, ?, ?)`,
        sessionId(cookie),
        entry.name,
        entry.role,
        entry.sha256,
        expiresAt,
      );
    });
    return { cookie, identity: { ...identity, via: "session" }, expiresAt };
  }

  /**
   * The identity a session cookie stands for, or null when it is unknown, expired, signed out
   * or its token has left the file (or changed role) since.
   */
  async identifySession(
    cookie: string,
    now = Date.now(),
  ): Promise<Identity | null> {
    await this.ready;
    const [row] = await this.#db.read(function* (): Tx<Row[]> {
      return yield q(
        "SELECT name, role, token_sha256, expires_at FROM access_sessions WHERE id = ?",
        sessionId(cookie),
      );
    });
    if (!row || Number(row.expires_at) <= now) return null;
    const entry = this.#byName.get(String(row.name));
    if (
      !entry || entry.role !== row.role ||
      !same(entry.sha256, String(row.token_sha256))
    ) return null;
    return { name: entry.name, role: entry.role, via: "session" };
  }

  /** Ends a session (sign-out). */
  async signOut(cookie: string): Promise<void> {
    await this.ready;
    await this.#db.write(function* () {
      yield q("DELETE FROM access_sessions WHERE id = ?", sessionId(cookie));
    });
  }

  /**
   * A signal aborted when `identity` loses access (its token leaves the file or changes): what a
   * long-lived answer (a stream) is tied to. Never aborted for the proxy's users and `local`.
   */
  signalFor(identity: Identity): AbortSignal {
    if (identity.via === "proxy" || identity.via === "open") {
      return new AbortController().signal;
    }
    let controller = this.#holds.get(identity.name);
    if (!controller) {
      controller = new AbortController();
      this.#holds.set(identity.name, controller);
    }
    return controller.signal;
  }

  /** Calls `listener` with the names that lost access at each reload. */
  onRevoke(listener: (names: ReadonlySet<string>) => void): void {
    this.#revoked.push(listener);
  }

  /**
   * Re-reads the tokens file. A file that no longer parses is reported and changes nothing (the
   * previous tokens stay); otherwise tokens that left it or changed stop working at once.
   * Returns the names that lost access.
   */
  reload(): ReadonlySet<string> {
    const path = this.#config.tokensFile;
    if (path === null) return new Set();
    let next: TokenEntry[];
    try {
      next = withAdmin(readTokenFile(path), this.#config.admin, path);
    } catch (error) {
      log.error(
        "tokens file not reloaded, the previous tokens stay",
        error instanceof ConfigError
          ? { variable: error.variable, error: error.message }
          : errorFields(error),
      );
      return new Set();
    }
    const lost = new Set<string>();
    for (const [name, entry] of this.#byName) {
      const now = next.find((t) => t.name === name);
      if (!now || now.sha256 !== entry.sha256 || now.role !== entry.role) {
        lost.add(name);
      }
    }
    this.#use(next);
    log.info("tokens file reloaded", {
      tokens: next.length,
      revoked: lost.size,
    });
    if (lost.size > 0) {
      for (const name of lost) {
        this.#holds.get(name)?.abort();
        this.#holds.delete(name);
      }
      for (const listener of this.#revoked) listener(lost);
    }
    return lost;
  }

  /** Stops retrying the migration (the store is closing). */
  close(): void {
    this.#closed = true;
  }

  /**
   * Re-reads the tokens file on SIGHUP and whenever it changes on disk; returns a function that
   * stops watching.
   */
  watch(): () => void {
    const path = this.#config.tokensFile;
    if (path === null) return () => {};
    const onHup = () => this.reload();
    Deno.addSignalListener("SIGHUP", onHup);
    let watcher: Deno.FsWatcher | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // The directory, not the file: editors replace files by renaming over them.
      const dir = path.includes("/")
        ? path.slice(0, path.lastIndexOf("/")) || "/"
        : ".";
      watcher = Deno.watchFs(dir, { recursive: false });
      (async () => {
        for await (const event of watcher!) {
          if (!event.paths.some((p) => p.endsWith(path.split("/").pop()!))) {
            continue;
          }
          clearTimeout(timer);
          timer = setTimeout(() => this.reload(), 50);
        }
      })().catch(() => {});
    } catch (error) {
      log.warn(
        "tokens file not watched (SIGHUP still reloads it)",
        errorFields(error),
      );
    }
    return () => {
      Deno.removeSignalListener("SIGHUP", onHup);
      clearTimeout(timer);
      try {
        watcher?.close();
      } catch { /* closed */ }
    };
  }
}
