/**
 * What a tool call's input says: a one-line summary, a signature to recognise the same call
 * repeated (loops), and the dangerous-command rules (Bash commands and file writes).
 *
 * @module
 */

import type { AgentConfig } from "../base/agent_config.ts";
// Written once in common/ (the dashboard summarises tool inputs too); re-exported for lib/agents.
export { inputSummary, oneLine, SUMMARY_LIMIT } from "../../common/text.ts";

/** One dangerous-command rule; `HOOKWATCH_DANGEROUS_RULES` picks them by name. */
export interface DangerRule {
  name: string;
  /** Short plain text, shown as the inbox item's reason. */
  description: string;
  /** True when a Bash command matches. */
  test(command: string, protectedBranches: readonly string[]): boolean;
  /** True when a file tool (Write, Edit …) writing to this path matches. */
  path?(path: string): boolean;
}

/** Splits a shell command into simple commands (by `;`, `&&`, `||`, `|`, newlines), as words. */
let lastCommand = "";
let lastWords: string[][] = [];
function simpleCommands(command: string): string[][] {
  // The rules ask in turn about the same command: split it once.
  if (command === lastCommand) return lastWords;
  lastCommand = command;
  return lastWords = command.split(/\|\||&&|[;|\n]/).map((part) =>
    part.trim().split(/\s+/).filter((w) => w.length > 0).map((w) =>
      w.replace(/^["']|["']$/g, "")
    )
  ).filter((words) => words.length > 0);
}

function program(words: string[]): [string, string[]] {
  let i = 0;
  while (
    i < words.length && /^(sudo|doas|command|exec|env|nohup)$/.test(words[i])
  ) {
    i++;
  }
  return [words[i]?.replace(/^.*\//, "") ?? "", words.slice(i + 1)];
}

const HOME_OR_ROOT = new Set([
  "/",
  "/*",
  "~",
  "~/",
  "~/*",
  "$HOME",
  "$HOME/",
  "$HOME/*",
  "${HOME}",
  "${HOME}/",
  "${HOME}/*",
]);

const GIT_DIR = /(^|[\s/"'=])\.git\//;
const SSH_DIR =
  /(~|\$HOME|\$\{HOME\}|\/home\/[^/\s]+|\/root|\/Users\/[^/\s]+)\/\.ssh(\/|$|\s)/;
const WRITES =
  /(>>?|\btee\b|\bcp\b|\bmv\b|\brm\b|\bsed\s+-i|\bdd\b|\btruncate\b|\bchmod\b|\bln\b)/;

function writesUnder(command: string, dir: RegExp): boolean {
  if (!dir.test(command)) return false;
  return command.split(/&&|\|\||[;\n]/).some((part) =>
    WRITES.test(part) && dir.test(part)
  );
}

/** The built-in rules, all on by default. */
export const DANGEROUS_RULES: readonly DangerRule[] = Object.freeze([
  {
    name: "rm_rf_root",
    description: "rm -rf of / or the home directory",
    test: (command) =>
      /\brm\b/.test(command) && simpleCommands(command).some((words) => {
        const [name, args] = program(words);
        if (name !== "rm") return false;
        const flags = args.filter((a) => a.startsWith("-")).join("");
        const recursive = /-[a-zA-Z]*[rR]|--recursive/.test(flags);
        const force = /-[a-zA-Z]*f|--force/.test(flags);
        return recursive && force && args.some((a) => HOME_OR_ROOT.has(a));
      }),
  },
  {
    name: "force_push",
    description: "git push --force to a protected branch",
    test: (command, branches) =>
      /\bpush\b/.test(command) && simpleCommands(command).some((words) => {
        const [name, args] = program(words);
        if (name !== "git" || !args.includes("push")) return false;
        const rest = args.slice(args.indexOf("push") + 1);
        const forced = rest.some((a) =>
          a === "--force" || a === "-f" || /^-[a-zA-Z]*f/.test(a) ||
          a.startsWith("--force-with-lease") || a.startsWith("+")
        );
        if (!forced) return false;
        return rest.filter((a) => !a.startsWith("-")).some((ref) => {
          const target = ref.replace(/^\+/, "").split(":").pop() ?? "";
          const branch = target.replace(/^refs\/heads\//, "");
          return branches.includes(branch);
        });
      }),
  },
  {
    name: "curl_pipe_sh",
    description: "a downloaded script piped into a shell",
    test: (command) =>
      /\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|k|da|fi)?sh\b/.test(command),
  },
  {
    name: "chmod_777",
    description: "chmod -R 777",
    test: (command) =>
      /\bchmod\b/.test(command) && simpleCommands(command).some((words) => {
        const [name, args] = program(words);
        return name === "chmod" &&
          args.some((a) => /^-[a-zA-Z]*R|^--recursive$/.test(a)) &&
          args.some((a) => /^0?777$|^a\+rwx$|^ugo\+rwx$/.test(a));
      }),
  },
  {
    name: "drop_table",
    description: "DROP TABLE / DATABASE / SCHEMA",
    test: (command) => /\bdrop\s+(table|database|schema)\b/i.test(command),
  },
  {
    name: "git_dir_write",
    description: "a write under .git/",
    test: (command) => writesUnder(command, GIT_DIR),
    path: (path) => /(^|\/)\.git\//.test(path),
  },
  {
    name: "ssh_dir_write",
    description: "a write under ~/.ssh",
    test: (command) => writesUnder(command, SSH_DIR),
    path: (path) => SSH_DIR.test(path) || /^~\/\.ssh\//.test(path),
  },
]);

const FILE_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"]);

/**
 * The first rule a tool call breaks, or null. Bash commands are matched against `test`, the
 * paths of file-writing tools against `path`.
 */
export function dangerOf(
  toolName: string,
  input: Record<string, unknown>,
  rules: readonly DangerRule[],
  protectedBranches: readonly string[],
): DangerRule | null {
  if (toolName === "Bash" && typeof input.command === "string") {
    const command = input.command.slice(0, 16_384);
    return rules.find((r) => r.test(command, protectedBranches)) ?? null;
  }
  if (FILE_TOOLS.has(toolName)) {
    const path = input.file_path ?? input.notebook_path ?? input.path;
    if (typeof path === "string") {
      return rules.find((r) => r.path?.(path)) ?? null;
    }
  }
  return null;
}

function stable(value: unknown, depth = 0): string {
  // Deeper than any real tool input: cut, so hostile nesting cannot exhaust the stack.
  if (depth > 32) return '"…"';
  if (Array.isArray(value)) {
    return `[${value.map((v) => stable(v, depth + 1)).join(",")}]`;
  }
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${
      Object.keys(record).sort().map((k) =>
        `${JSON.stringify(k)}:${stable(record[k], depth + 1)}`
      ).join(",")
    }}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * A short signature of a tool and its input (key order ignored): the same call repeated has
 * the same signature. FNV-1a over the canonical JSON, two 32-bit halves.
 */
export function callSignature(toolName: string, input: unknown): string {
  const text = `${toolName}\n${stable(input)}`;
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  return (a >>> 0).toString(36) + (b >>> 0).toString(36);
}

const compiled = new WeakMap<AgentConfig, DangerRule[]>();

/** The rules a configuration puts in force: the built-in ones it names, then its extra patterns. */
export function rulesOf(config: AgentConfig): DangerRule[] {
  let rules = compiled.get(config);
  if (!rules) {
    rules = [
      ...DANGEROUS_RULES.filter((r) => config.dangerRules.includes(r.name)),
      ...config.dangerExtra.map((source, i) => {
        const pattern = new RegExp(source, "i");
        return {
          name: `extra_${i + 1}`,
          description: `matches ${source}`,
          test: (command: string) => pattern.test(command),
        };
      }),
    ];
    compiled.set(config, rules);
  }
  return rules;
}
