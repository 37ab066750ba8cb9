/**
 * What every configuration parser shares: the error that names the variable, and durations.
 * `config.ts` re-exports both; the parsers `config.ts` calls import them from here.
 *
 * @module
 */

/** A configuration value that cannot be used; `variable` names it. */
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86400e3,
};

/**
 * Parses a duration such as `24h`, `90m`, `30s`, `500ms` or plain milliseconds.
 *
 * @example
 * ```ts
 * parseDuration("4h", "RETENTION_REGULAR"); // 14400000
 * ```
 */
export function parseDuration(value: string, variable: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) {
    throw new ConfigError(
      variable,
      `"${value}" is not a duration such as 24h, 90m or 30s`,
    );
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? "ms"];
  if (ms <= 0) throw new ConfigError(variable, "must be greater than zero");
  return ms;
}
