/**
 * Storage failures that are the server's environment, not the request: a full disk, a read-only
 * or locked database, an I/O error, a lost PostgreSQL connection. They are answered 503 with
 * `Retry-After` (the sender retries or spools), never 500, and mark health unhealthy.
 *
 * @module
 */
import { HttpError } from "../../common/errors.ts";
import { errorFields, log } from "../base/log.ts";

/** The store cannot serve now (503, retry in 5 s); `reason` is a fixed, payload-free description. */
export class StoreUnavailableError extends HttpError {
  constructor(readonly reason: string, options?: ErrorOptions) {
    super(503, `storage unavailable: ${reason}`, { retryAfter: 5 }, options);
    this.name = "StoreUnavailableError";
  }
}

// Primary SQLite result codes (https://sqlite.org/rescode.html) that mean "the environment".
const SQLITE_REASONS: Record<number, string> = {
  5: "the database is locked (busy)",
  6: "the database table is locked",
  7: "out of memory",
  8: "the database is read-only",
  10: "disk I/O error",
  11: "the database file is corrupt",
  13: "the database or disk is full",
  14: "the database file cannot be opened",
  26: "the database file is not a database",
};

// sqlite3_errstr() of the same codes.
const SQLITE_MESSAGES: [RegExp, string][] = [
  [/^database is locked/, SQLITE_REASONS[5]],
  [/^database table is locked/, SQLITE_REASONS[6]],
  [/^out of memory/, SQLITE_REASONS[7]],
  [/^attempt to write a readonly database/, SQLITE_REASONS[8]],
  [/^disk I\/O error/, SQLITE_REASONS[10]],
  [/^database disk image is malformed/, SQLITE_REASONS[11]],
  [/^database or disk is full/, SQLITE_REASONS[13]],
  [/^unable to open database file/, SQLITE_REASONS[14]],
  [/^file is not a database/, SQLITE_REASONS[26]],
];

// npm:postgres client-side connection failures, and SQLSTATE classes 08 (connection), 53
// (insufficient resources, e.g. 53100 disk_full), 57P0x (shutdown), 25006 (read-only).
const POSTGRES_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "25006",
]);

/**
 * The {@linkcode StoreUnavailableError} an error from a store stands for, or null when it is
 * some other failure (a bug: 500).
 *
 * @example
 * ```ts
 * const unavailable = asStoreUnavailable(error);
 * if (unavailable) return c.json({ error: unavailable.message }, 503);
 * ```
 */
export function asStoreUnavailable(
  error: unknown,
): StoreUnavailableError | null {
  if (error instanceof StoreUnavailableError) return error;
  if (typeof error !== "object" || error === null) return null;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (code === "ERR_SQLITE_ERROR") {
    // Statement errors carry `errcode`; `exec` errors (COMMIT) only SQLite's message.
    const reason = typeof errcode === "number"
      ? SQLITE_REASONS[errcode & 0xff]
      : SQLITE_MESSAGES.find(([pattern]) =>
        pattern.test(String((error as Error).message))
      )?.[1];
    return reason ? new StoreUnavailableError(reason, { cause: error }) : null;
  }
  if (typeof code === "string") {
    if (
      POSTGRES_CODES.has(code) || /^(08|53)[0-9A-Z]{3}$/.test(code) ||
      /^57P0[1-3]$/.test(code)
    ) {
      return new StoreUnavailableError(`database connection failed (${code})`, {
        cause: error,
      });
    }
  }
  if (code === "ERR_INVALID_STATE") {
    // node:sqlite after close (shutdown): the database is not open.
    return new StoreUnavailableError("the database is closed", {
      cause: error,
    });
  }
  return null;
}

/** Options for {@linkcode whileUnavailable}. */
export interface RetryOptions {
  /** Logged once, with the first failure, while the store is away. */
  message: string;
  /** Stop retrying (the component is closing): the last failure rejects. */
  stopped: () => boolean;
}

/**
 * Runs `step` until it succeeds, again every second while the store is unavailable (a replica
 * started while PostgreSQL restarts gets going once it is back); any other failure rejects.
 *
 * @example
 * ```ts
 * await whileUnavailable(() => migrate(sql), {
 *   message: "tables not created yet, retrying",
 *   stopped: () => closed,
 * });
 * ```
 */
export async function whileUnavailable<T>(
  step: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let logged = false;;) {
    try {
      return await step();
    } catch (error) {
      if (options.stopped() || !asStoreUnavailable(error)) throw error;
      if (!logged) {
        log.error(options.message, errorFields(error));
        logged = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
