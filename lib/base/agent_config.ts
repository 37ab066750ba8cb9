/**
 * Configuration of tool-call pairing, session staleness and the pattern alerts, validated at
 * start-up like the rest of `lib/base/config.ts` (a bad value stops the process naming it).
 *
 * @module
 */
import { ConfigError, parseDuration } from "./config_values.ts";

/** Names of the built-in dangerous-command rules (lib/sessions/patterns.ts defines them). */
export const DANGER_RULE_NAMES: readonly string[] = [
  "rm_rf_root",
  "force_push",
  "curl_pipe_sh",
  "chmod_777",
  "drop_table",
  "git_dir_write",
  "ssh_dir_write",
];

/** Agent-session settings. */
export interface AgentConfig {
  /** A session with no event for this long, and no `SessionEnd`, is `stale` (`HOOKWATCH_STALE_AFTER`). */
  staleAfterMs: number;
  /** A tool call with no outcome for this long is `orphaned` (`HOOKWATCH_ORPHAN_AFTER`). */
  orphanAfterMs: number;
  /** Consecutive `PostToolUseFailure`s that raise a streak alert; 0 turns it off. */
  failureStreak: number;
  /** The same tool with the same input this many times in a row is a loop; 0 turns it off. */
  loopRepeats: number;
  /** Spend per session (USD) that raises a budget alert; 0 turns it off. */
  sessionBudgetUsd: number;
  /** Built-in dangerous-command rules in force, by name. */
  dangerRules: string[];
  /** Extra dangerous-command patterns (regular expressions, case-insensitive) for Bash. */
  dangerExtra: string[];
  /** Branches a force push to is dangerous. */
  protectedBranches: string[];
}

function whole(
  env: Record<string, string | undefined>,
  variable: string,
  fallback: number,
  max: number,
): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new ConfigError(
      variable,
      `"${raw}" is not a whole number from 0 (off) to ${max}`,
    );
  }
  return value;
}

/**
 * Reads `HOOKWATCH_STALE_AFTER` (10m), `HOOKWATCH_ORPHAN_AFTER` (5m),
 * `HOOKWATCH_FAILURE_STREAK` (3), `HOOKWATCH_LOOP_REPEATS` (5),
 * `HOOKWATCH_SESSION_BUDGET_USD` (10), `HOOKWATCH_DANGEROUS_RULES` (all built-in rules, or
 * `none`, or a comma list of names), `HOOKWATCH_DANGEROUS_EXTRA` (a JSON array of regular
 * expressions matched against Bash commands) and `HOOKWATCH_PROTECTED_BRANCHES` (main,master).
 *
 * @throws {ConfigError} naming the first bad variable.
 */
export function loadAgentConfig(
  env: Record<string, string | undefined>,
): AgentConfig {
  const duration = (variable: string, fallback: number) => {
    const raw = env[variable];
    return raw === undefined || raw.trim() === ""
      ? fallback
      : parseDuration(raw, variable);
  };
  const budgetRaw = env.HOOKWATCH_SESSION_BUDGET_USD?.trim();
  const budget = budgetRaw === undefined || budgetRaw === ""
    ? 10
    : Number(budgetRaw);
  if (!Number.isFinite(budget) || budget < 0) {
    throw new ConfigError(
      "HOOKWATCH_SESSION_BUDGET_USD",
      `"${budgetRaw}" is not an amount of USD (0 turns it off)`,
    );
  }
  const names = env.HOOKWATCH_DANGEROUS_RULES?.trim();
  let rules: string[];
  if (names === undefined || names === "" || names === "all") {
    rules = [...DANGER_RULE_NAMES];
  } else if (names === "none") {
    rules = [];
  } else {
    rules = names.split(",").map((n) => n.trim()).filter((n) => n).map(
      (name) => {
        if (!DANGER_RULE_NAMES.includes(name)) {
          throw new ConfigError(
            "HOOKWATCH_DANGEROUS_RULES",
            `"${name}" is not one of all, none, ${
              DANGER_RULE_NAMES.join(", ")
            }`,
          );
        }
        return name;
      },
    );
  }
  const extra = env.HOOKWATCH_DANGEROUS_EXTRA?.trim();
  const dangerExtra: string[] = [];
  if (extra) {
    let patterns: unknown;
    try {
      patterns = JSON.parse(extra);
    } catch {
      patterns = null;
    }
    if (
      !Array.isArray(patterns) ||
      !patterns.every((p) => typeof p === "string" && p.length > 0)
    ) {
      throw new ConfigError(
        "HOOKWATCH_DANGEROUS_EXTRA",
        'must be a JSON array of regular expressions, e.g. ["terraform destroy"]',
      );
    }
    patterns.forEach((source: string, i) => {
      try {
        new RegExp(source, "i");
      } catch (error) {
        throw new ConfigError(
          "HOOKWATCH_DANGEROUS_EXTRA",
          `pattern ${i + 1} "${source}" is not a regular expression: ${
            (error as Error).message
          }`,
        );
      }
      dangerExtra.push(source);
    });
  }
  const branches = (env.HOOKWATCH_PROTECTED_BRANCHES ?? "main,master").split(
    ",",
  ).map((b) => b.trim()).filter((b) => b);
  for (const b of branches) {
    if (!/^[A-Za-z0-9._\/-]+$/.test(b)) {
      throw new ConfigError(
        "HOOKWATCH_PROTECTED_BRANCHES",
        `"${b}" is not a branch name`,
      );
    }
  }
  return {
    staleAfterMs: duration("HOOKWATCH_STALE_AFTER", 10 * 60_000),
    orphanAfterMs: duration("HOOKWATCH_ORPHAN_AFTER", 5 * 60_000),
    failureStreak: whole(env, "HOOKWATCH_FAILURE_STREAK", 3, 1000),
    loopRepeats: whole(env, "HOOKWATCH_LOOP_REPEATS", 5, 1000),
    sessionBudgetUsd: budget,
    dangerRules: rules,
    dangerExtra,
    protectedBranches: branches,
  };
}
