/**
 * The redaction settings read from the environment: `HOOKWATCH_REDACT` (on/off) and
 * `HOOKWATCH_REDACT_PATTERNS`, a JSON object of extra patterns by kind,
 * `{"acme_token": "acme_[a-z0-9]{32}", "ticket": "/tkt-[0-9a-f]{16}/i"}`. Checked once at
 * start-up by {@linkcode loadConfig}; the patterns are applied by `lib/ingest/redact.ts`.
 *
 * @module
 */

/** One configured extra pattern: every match becomes `[REDACTED:<kind>]`. */
export interface RedactPattern {
  kind: string;
  /** Compiled with the `g` flag. */
  regex: RegExp;
}

/** A bad redaction setting; `variable` names it (the config module turns it into a ConfigError). */
export class RedactConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(message);
    this.name = "RedactConfigError";
  }
}

/** Most extra patterns: each kind is a metric label, so their number is bounded. */
export const MAX_EXTRA_PATTERNS = 32;

const KIND = /^[a-z][a-z0-9_]{0,31}$/;
const LITERAL = /^\/(.+)\/([a-z]*)$/s;
const FLAGS = /^[imsuv]*$/;

/** Parses `HOOKWATCH_REDACT`: on unless off/false/0. */
export function parseRedactFlag(raw: string | undefined): boolean {
  const flag = (raw ?? "on").trim().toLowerCase();
  if (["on", "true", "1", ""].includes(flag)) return true;
  if (["off", "false", "0"].includes(flag)) return false;
  throw new RedactConfigError("HOOKWATCH_REDACT", `"${raw}" is not on or off`);
}

/**
 * Parses `HOOKWATCH_REDACT_PATTERNS`: a JSON object whose keys are kinds (`[a-z][a-z0-9_]*`,
 * at most 32 characters) and whose values are regular expressions, plain (`"acme_\\w{32}"`) or
 * as a literal with flags (`"/acme_\\w{32}/i"`; flags i, m, s, u, v).
 *
 * @throws {RedactConfigError} naming the bad kind or pattern.
 */
export function parseRedactPatterns(raw: string | undefined): RedactPattern[] {
  const variable = "HOOKWATCH_REDACT_PATTERNS";
  if (raw === undefined || raw.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new RedactConfigError(
      variable,
      'must be a JSON object of kind → regular expression, e.g. {"acme_token":"acme_[a-z0-9]{32}"}',
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RedactConfigError(
      variable,
      "must be a JSON object of kind → regular expression",
    );
  }
  const entries = Object.entries(parsed);
  if (entries.length > MAX_EXTRA_PATTERNS) {
    throw new RedactConfigError(
      variable,
      `holds ${entries.length} patterns; at most ${MAX_EXTRA_PATTERNS}`,
    );
  }
  return entries.map(([kind, value]) => {
    if (!KIND.test(kind)) {
      throw new RedactConfigError(
        variable,
        `kind "${kind}" must be lower case letters, digits and _ (at most 32, starting with a letter)`,
      );
    }
    if (typeof value !== "string" || value === "") {
      throw new RedactConfigError(
        variable,
        `pattern for "${kind}" must be a non-empty string`,
      );
    }
    const literal = LITERAL.exec(value);
    const source = literal ? literal[1] : value;
    const flags = literal ? literal[2] : "";
    if (!FLAGS.test(flags)) {
      throw new RedactConfigError(
        variable,
        `pattern for "${kind}" has flags "${flags}"; only i, m, s, u and v are allowed`,
      );
    }
    let regex: RegExp;
    try {
      regex = new RegExp(source, `g${flags}`);
    } catch (error) {
      throw new RedactConfigError(
        variable,
        `pattern for "${kind}" is not a valid regular expression: ${
          (error as Error).message
        }`,
      );
    }
    if (regex.test("")) {
      throw new RedactConfigError(
        variable,
        `pattern for "${kind}" matches the empty string`,
      );
    }
    regex.lastIndex = 0;
    return { kind, regex };
  });
}
