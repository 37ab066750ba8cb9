/**
 * hookwatch's log: one line per record on stdout (warnings and errors on stderr in text form).
 *
 * - `json` (`LOG_FORMAT=json`): one JSON object per line, `time` (ISO 8601), `level`, `msg`, then
 *   the record's fields (`request_id`, `method`, `path`, `status`, `duration_ms`, `error`, …) at
 *   the top level, as Logstash/Filebeat's JSON codec expects. Every record goes to stdout.
 * - `text` (the default): `hookwatch: <msg> key=value …`, for a terminal.
 *
 * Records never carry an event payload: callers pass ids, counts, sizes and fixed reasons only.
 * As a second line of defence, configured secrets (tokens, the database password) are replaced by
 * `[redacted]` wherever they would appear in a line.
 *
 * @module
 */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Line format. */
export type LogFormat = "json" | "text";

/** The fields of one record. */
export type LogFields = Record<string, unknown>;

/** The log levels in order, for validation. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
];

/** The line formats, for validation. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** Settings for {@linkcode Logger.configure}. */
export interface LogSettings {
  format?: LogFormat;
  /** Records below this level are dropped. */
  level?: LogLevel;
  /** Strings that must never appear in a line (shorter than 4 characters are ignored). */
  secrets?: readonly (string | null | undefined)[];
  /** Where lines go; stdout/stderr by default. */
  write?: (line: string, level: LogLevel) => void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const RESERVED = new Set(["time", "level", "msg"]);
const encoder = new TextEncoder();

function writeAll(out: { writeSync(p: Uint8Array): number }, line: string) {
  let bytes = encoder.encode(line);
  while (bytes.length > 0) bytes = bytes.subarray(out.writeSync(bytes));
}

/**
 * `error` (`Name: message`, with the cause's message when there is one) and, for unexpected
 * errors, `stack` (the frames only), as log fields.
 *
 * @example
 * ```ts
 * log.error("retention sweep failed", errorFields(error));
 * ```
 */
export function errorFields(
  error: unknown,
  options: { stack?: boolean } = {},
): LogFields {
  if (!(error instanceof Error)) return { error: String(error) };
  let text = error.name && error.name !== "Error"
    ? `${error.name}: ${error.message}`
    : error.message;
  if (error.cause instanceof Error && !text.includes(error.cause.message)) {
    text += ` (${error.cause.message})`;
  }
  const fields: LogFields = { error: text.slice(0, 2000) };
  if (options.stack && error.stack) {
    const frames = error.stack.split("\n").filter((l) => /^\s+at /.test(l));
    if (frames.length > 0) {
      fields.stack = frames.map((l) => l.trim()).join("\n");
    }
  }
  return fields;
}

/** The password in a URL such as `postgres://user:password@host/db`, for {@linkcode LogSettings.secrets}. */
export function urlPassword(url: string): string | null {
  try {
    return decodeURIComponent(new URL(url).password) || null;
  } catch {
    return null;
  }
}

function textValue(value: unknown): string {
  const text = typeof value === "string"
    ? value
    : value instanceof Error
    ? value.message
    : JSON.stringify(value) ?? String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * A leveled logger writing JSON or text lines; use the shared {@linkcode log}.
 *
 * @example
 * ```ts
 * log.configure({ format: "json", level: "info" });
 * log.warn("stream client dropped", { queue_limit_bytes: 65536 });
 * ```
 */
export class Logger {
  #format: LogFormat = "text";
  // Until configured (main.ts sets LOG_LEVEL, default info), only warnings and errors: tests and
  // tools that open a store in-process are not flooded with start-up records.
  #rank = RANK.warn;
  #secrets: string[] = [];
  #write: (line: string, level: LogLevel) => void = (line, level) => {
    if (this.#format === "text" && RANK[level] >= RANK.warn) {
      writeAll(Deno.stderr, line);
    } else writeAll(Deno.stdout, line);
  };

  /** Changes format, level, secrets or destination; unset settings keep their value. */
  configure(settings: LogSettings): void {
    if (settings.format) this.#format = settings.format;
    if (settings.level) this.#rank = RANK[settings.level];
    if (settings.write) this.#write = settings.write;
    if (settings.secrets) {
      this.#secrets = settings.secrets.filter((s): s is string =>
        typeof s === "string" && s.length >= 4
      );
    }
  }

  /** The current line format. */
  get format(): LogFormat {
    return this.#format;
  }

  /** True when records of `level` are written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  debug(msg: string, fields?: LogFields): void {
    this.write("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.write("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.write("error", msg, fields);
  }

  /** Writes one record when `level` is enabled. */
  write(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (RANK[level] < this.#rank) return;
    let line = this.#format === "json"
      ? this.#json(level, msg, fields)
      : this.#text(msg, fields);
    for (const secret of this.#secrets) {
      if (line.includes(secret)) line = line.replaceAll(secret, "[redacted]");
    }
    try {
      this.#write(line + "\n", level);
    } catch { /* a closed stdout must not take the server down */ }
  }

  #json(level: LogLevel, msg: string, fields: LogFields): string {
    const record: LogFields = { time: new Date().toISOString(), level, msg };
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      record[RESERVED.has(key) ? `field_${key}` : key] = value instanceof Error
        ? errorFields(value).error
        : value;
    }
    try {
      return JSON.stringify(record);
    } catch (error) {
      return JSON.stringify({
        time: record.time,
        level,
        msg,
        log_error: `fields not serialisable: ${(error as Error).message}`,
      });
    }
  }

  #text(msg: string, fields: LogFields): string {
    let line = `hookwatch: ${msg}`;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      line += key === "stack"
        ? `\n${String(value).replace(/^/gm, "    ")}`
        : ` ${key}=${textValue(value)}`;
    }
    return line;
  }
}

/** The process's logger, configured once at start-up by `main.ts`. */
export const log: Logger = new Logger();
