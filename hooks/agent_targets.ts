/**
 * Where and how hookwatch's hooks go for each agent but Claude Code (whose settings files
 * `install.ts` handles as it always has): the hook file of a global or a project install, its
 * shape, the events installed and the handler for each, the event that can take a person's
 * decision, and what the agent needs before it runs the hooks (measured with the real CLIs:
 * `tests/fixtures/agents/FINDINGS.md`).
 *
 * - **Codex**: `$CODEX_HOME/hooks.json` (default `~/.codex`) or `DIR/.codex/hooks.json`, Claude
 *   Code's nesting, `timeout` in seconds. Claude Code's event names; no `Notification` or
 *   `PostToolUseFailure`.
 * - **Gemini CLI**: the `hooks` key of `~/.gemini/settings.json` or `DIR/.gemini/settings.json`,
 *   Claude Code's nesting, `timeout` in milliseconds. Its model-level events (`BeforeModel`,
 *   `BeforeToolSelection`, `AfterModel` once per streamed chunk) and `PreCompress` (before every
 *   model call, nothing compressed) are not installed.
 * - **Copilot CLI**: a file of its own, `$COPILOT_HOME/hooks/hookwatch.json` (default
 *   `~/.copilot`) or `DIR/.github/hooks/hookwatch.json`, `{"version": 1, "hooks": {event:
 *   [handler]}}`, `bash` and `timeoutSec`. Registered under its own camelCase names only
 *   (registering PascalCase too fires both): their inputs name no event, so each command names
 *   its own (`--event`). `permissionRequest` comes before every tool call, whether or not
 *   anyone is asked: it is installed only with `--decisions`.
 *
 * @module
 */
import type { AgentName } from "../common/adapters/names.ts";
import { type FileShape, InstallError, type Json, NESTED } from "./settings.ts";

/** Where to install: one project, or every project. */
export interface Target {
  global?: boolean;
  project?: string;
}

/** One agent's hook file and hooks. */
export interface AgentTarget {
  agent: AgentName;
  label: string;
  /** The hook file of a global or a project install. */
  path(target: Target, env: (name: string) => string | undefined): string;
  /** The hook file's path inside a project, for the `.gitignore` hint. */
  projectFile: string;
  shape: FileShape;
  /** The events installed, in the agent's own names. */
  events: readonly string[];
  /** Whether each command must name its event (the agent's inputs do not). */
  namesEvent: boolean;
  /** The event whose hook can answer a permission request (`--decisions`); null when none. */
  decideEvent: string | null;
  /** Whether {@linkcode decideEvent} is installed only with `--decisions` (not in `events`). */
  decideOnly?: boolean;
  /** The handler entry running `command`, which the agent kills after `timeoutS` seconds. */
  handler(command: string, timeoutS: number): Json;
  /** What the agent needs before it runs the hooks, in lines for the installer to print. */
  needs(target: Target, path: string, decisions: boolean): string[];
}

function home(env: (name: string) => string | undefined): string {
  const dir = env("HOME") ?? env("USERPROFILE");
  if (!dir) throw new InstallError("--global needs HOME to be set");
  return dir;
}

function project(target: Target): string {
  if (target.project === undefined) {
    throw new InstallError("say where: --project DIR or --global");
  }
  return target.project.replace(/\/+$/, "");
}

/** `$NAME` when it is set, else `~/<fallback>`. */
function dirOf(
  env: (name: string) => string | undefined,
  name: string,
  fallback: string,
): string {
  return (env(name) || `${home(env)}/${fallback}`).replace(/\/+$/, "");
}

const CODEX: AgentTarget = {
  agent: "codex",
  label: "Codex",
  path: (target, env) =>
    target.global
      ? `${dirOf(env, "CODEX_HOME", ".codex")}/hooks.json`
      : `${project(target)}/.codex/hooks.json`,
  projectFile: ".codex/hooks.json",
  shape: NESTED,
  events: [
    "SessionStart",
    "SessionEnd",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "SubagentStart",
    "SubagentStop",
    "Stop",
    "PreCompact",
    "PostCompact",
  ],
  namesEvent: false,
  decideEvent: "PermissionRequest",
  handler: (command, timeoutS) => ({
    type: "command",
    command,
    timeout: timeoutS,
  }),
  needs(target, _path, decisions) {
    const lines = [
      "Codex runs only hooks you trust, and skips the others silently: trust these once in " +
      "Codex's /hooks (again after a reinstall with other options), or pass " +
      "--dangerously-bypass-hook-trust where Codex runs unattended (codex exec).",
    ];
    if (!target.global) {
      lines.push(
        `Codex reads ${
          project(target)
        }/.codex/hooks.json only in a trusted project: start codex there once and trust ` +
          `it (or codex exec --trust), or add [projects."${
            project(target)
          }"] trust_level = "trusted" to $CODEX_HOME/config.toml.`,
      );
    }
    if (decisions) {
      lines.push(
        "Codex fires PermissionRequest only for a command it would ask you about (never with " +
          "--dangerously-bypass-approvals-and-sandbox; with codex exec, --approve-for-me); " +
          "when nobody decides in hookwatch, Codex's own reviewer decides.",
      );
    }
    return lines;
  },
};

const GEMINI: AgentTarget = {
  agent: "gemini-cli",
  label: "Gemini CLI",
  path: (target, env) =>
    target.global
      ? `${home(env)}/.gemini/settings.json`
      : `${project(target)}/.gemini/settings.json`,
  projectFile: ".gemini/settings.json",
  shape: NESTED,
  events: [
    "SessionStart",
    "SessionEnd",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
    "Notification",
  ],
  namesEvent: false,
  decideEvent: null,
  handler: (command, timeoutS) => ({
    type: "command",
    command,
    timeout: timeoutS * 1000,
  }),
  needs(target, _path, decisions) {
    const lines: string[] = [];
    if (!target.global) {
      lines.push(
        `Gemini CLI runs ${
          project(target)
        }/.gemini/settings.json's hooks only in a trusted folder: trust it when Gemini asks, ` +
          `or add "${
            project(target)
          }": "TRUST_FOLDER" to ~/.gemini/trustedFolders.json (GEMINI_CLI_TRUST_WORKSPACE=true ` +
          "where it runs unattended; with --skip-trust it runs without them).",
      );
    }
    if (decisions) {
      lines.push(
        "Gemini CLI has no permission-request event: there is nothing hookwatch could hold, " +
          "so --decisions changes nothing for it.",
      );
    }
    return lines;
  },
};

const COPILOT: AgentTarget = {
  agent: "copilot-cli",
  label: "Copilot CLI",
  path: (target, env) =>
    target.global
      ? `${dirOf(env, "COPILOT_HOME", ".copilot")}/hooks/hookwatch.json`
      : `${project(target)}/.github/hooks/hookwatch.json`,
  projectFile: ".github/hooks/hookwatch.json",
  shape: { entries: "flat", base: { version: 1 } },
  events: [
    "sessionStart",
    "sessionEnd",
    "userPromptSubmitted",
    "preToolUse",
    "postToolUse",
    "postToolUseFailure",
    "subagentStart",
    "subagentStop",
    "agentStop",
    "preCompact",
    "notification",
  ],
  namesEvent: true,
  // Asked before every tool call, whether a person is asked or not (also with
  // --allow-all-tools): stored, every call would wait in the inbox for a moment and its time
  // would be a wait. Hooked only when a person is to answer it.
  decideEvent: "permissionRequest",
  decideOnly: true,
  handler: (command, timeoutS) => ({
    type: "command",
    bash: command,
    timeoutSec: timeoutS,
  }),
  needs(target, _path, decisions) {
    const lines: string[] = [];
    if (!target.global) {
      lines.push(
        `Copilot CLI reads ${
          project(target)
        }/.github/hooks/*.json only in a trusted folder: trust it when Copilot asks, or add it ` +
          `to "trustedFolders" in $COPILOT_HOME/config.json.`,
      );
    }
    if (decisions) {
      lines.push(
        "Copilot CLI asks permissionRequest before every tool call, also with " +
          "--allow-all-tools: with HOOKWATCH_DECISIONS=on each call waits for a person in " +
          "hookwatch (up to the decision wait), then Copilot decides as it would have.",
      );
    }
    return lines;
  },
};

/** The agents installed through this module, by stored name. */
export const AGENT_TARGETS: Readonly<Partial<Record<AgentName, AgentTarget>>> =
  Object.freeze({
    codex: CODEX,
    "gemini-cli": GEMINI,
    "copilot-cli": COPILOT,
  });
