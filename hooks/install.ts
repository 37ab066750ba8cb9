/**
 * Installs the hookwatch sender as a Claude Code hook for every core event type: for one
 * project (`--project DIR`: its `.claude/settings.local.json`) or for every project (`--global`:
 * `~/.claude/settings.json`). One of the two is required; `deno task` runs in the hookwatch
 * checkout, so a default would install into hookwatch itself.
 *
 * A project install goes to `settings.local.json`, Claude Code's per-user project settings,
 * because the hook command names this machine's hookwatch checkout and Deno binary: that must
 * not land in `settings.json`, which teams commit. Hooks an older installer put in the
 * project's `settings.json` are moved out of it (and an uninstall removes them there too).
 *
 * The merge itself is `settings.ts`'s; this module reads and writes the files (atomically; the
 * file as it was before the first install is kept beside it as `*.hookwatch-backup`, and an
 * uninstall that leaves the settings equal to it restores its bytes, so install + uninstall is
 * byte-identical) and asks the server (`preflight.ts`) whether the hooks will get through.
 *
 * With `--decisions`, `PermissionRequest` gets an `http` hook on `/hooks/<app>/decide`, so a
 * person can answer it from the dashboard.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, resolve } from "node:path";
import { CORE_HOOK_TYPES } from "../common/classify.ts";
import {
  DEFAULT_SERVER_URL,
  DEFAULT_TOKEN_ENV,
  TOKEN_ENV_NAME,
} from "./config.ts";
import { checkServer } from "./preflight.ts";
import {
  type CommandOptions,
  decideHandler,
  DECISION_WAIT_S,
  FRONT_PATH,
  hasOurs,
  hookCommand,
  hookHandler,
  InstallError,
  type Json,
} from "./settings.ts";
import { runAgent } from "./agent_install.ts";
import {
  agentOfFlag,
  AGENTS,
  DEFAULT_AGENT,
} from "../common/adapters/names.ts";
import {
  BACKUP_SUFFIX,
  type Change,
  diffOf,
  exists,
  gitignoreHint,
  installed,
  installHooks,
  readOrNull,
  removed,
  uninstallHooks,
} from "./hook_files.ts";

export { BACKUP_SUFFIX, type Change, diffOf } from "./hook_files.ts";

/** Installs (or with `dryRun` only plans) hookwatch's hooks in the settings file at `path`. */
export async function install(
  path: string,
  command: string,
  { dryRun = false, decide }: { dryRun?: boolean; decide?: Json } = {},
): Promise<Change> {
  const wanted: Record<string, Json> = {};
  for (const event of CORE_HOOK_TYPES) {
    wanted[event] = hookHandler(command, event);
  }
  if (decide) wanted.PermissionRequest = decide;
  return await installHooks(path, wanted, { dryRun });
}

/** Removes (or with `dryRun` only plans removing) exactly the hooks hookwatch installed. */
export function uninstall(
  path: string,
  { dryRun = false } = {},
): Promise<Change> {
  return uninstallHooks(path, { dryRun });
}

import type { Target } from "./agent_targets.ts";
export type { Target };

/**
 * The settings file for the target: `~/.claude/settings.json` with `global`, else the
 * project's `.claude/settings.local.json`.
 *
 * @throws {InstallError} without a target, or with both.
 */
export function settingsPath(
  target: Target,
  env: (name: string) => string | undefined,
): string {
  if (target.global && target.project !== undefined) {
    throw new InstallError("--project and --global: choose one");
  }
  if (target.global) {
    const home = env("HOME") ?? env("USERPROFILE");
    if (!home) throw new InstallError("--global needs HOME to be set");
    return `${home}/.claude/settings.json`;
  }
  if (target.project === undefined) {
    throw new InstallError(
      "say where: --project DIR (that project's .claude/settings.local.json) or " +
        "--global (~/.claude/settings.json, every project)",
    );
  }
  return `${target.project.replace(/\/+$/, "")}/.claude/settings.local.json`;
}

/** Where hooks are found that hookwatch wrote into a project's committed `settings.json`. */
function legacyPath(target: Target): string | null {
  return target.project === undefined
    ? null
    : `${target.project.replace(/\/+$/, "")}/.claude/settings.json`;
}

/** `HOOKWATCH_URL`, else hookwatch's own port on this machine (`PORT`, else 4000). */
export function defaultServerUrl(
  env: (name: string) => string | undefined,
): string {
  const explicit = env("HOOKWATCH_URL");
  if (explicit) return explicit;
  const port = Number(env("PORT"));
  return Number.isInteger(port) && port > 0 && port < 65536
    ? `http://127.0.0.1:${port}`
    : DEFAULT_SERVER_URL;
}

const USAGE =
  `usage: hookwatch-hook install|uninstall [--agent NAME] --project DIR | --global [options]
  --agent NAME        claude (the default), codex, gemini or copilot
  --project DIR       that project: Claude Code's .claude/settings.local.json (per-user, not
                      committed), Codex's .codex/hooks.json, Gemini CLI's .gemini/settings.json,
                      Copilot CLI's .github/hooks/hookwatch.json
  --global            every project: ~/.claude/settings.json, $CODEX_HOME/hooks.json,
                      ~/.gemini/settings.json, $COPILOT_HOME/hooks/hookwatch.json
  --dry-run           print the change as a diff; write nothing
  --source-app NAME   fixed source_app (default: the git repository name of the hook's cwd)
  --server-url URL    hookwatch's address (default: HOOKWATCH_URL, else
                      http://127.0.0.1:$PORT, else http://127.0.0.1:4000)
  --add-chat          attach the transcript to each event (Claude Code)
  --command CMD       run CMD as the hook instead of this sender
  --decisions         a person allows or denies permission requests from the dashboard
                      (hookwatch needs HOOKWATCH_DECISIONS=on): Claude Code's as an http hook,
                      Codex's and Copilot CLI's through the sender, which waits for the answer
  --decision-wait S   seconds hookwatch holds a permission request (default 50)
  --token-env NAME    the hooks read the token from $NAME where the agent runs (default
                      HOOKWATCH_TOKEN), e.g. this machine's ingest token
The installer asks the server's /health, sending the token in HOOKWATCH_TOKEN (or in
--token-env's NAME); when hookwatch has tokens, export it where the agent runs too.
`;

/** The compiled binary carries `hook.sh`; its hooks run a copy written beside the binary. */
async function frontForBinary(): Promise<string> {
  const path = `${Deno.execPath()}.sh`;
  await Deno.writeTextFile(path, await Deno.readTextFile(FRONT_PATH), {
    mode: 0o755,
  });
  return path;
}

/** After an install: where the hooks send, the `.gitignore` hint, the server's warnings. */
async function lastWords(
  serverUrl: string,
  bake: boolean,
  project: string | undefined,
  projectFile: string,
  env: (name: string) => string | undefined,
  tokenEnv: string,
): Promise<number> {
  console.log(
    bake
      ? `the hooks send to ${serverUrl}`
      : `the hooks send to HOOKWATCH_URL where the agent runs, else ${DEFAULT_SERVER_URL}`,
  );
  if (tokenEnv !== DEFAULT_TOKEN_ENV) {
    console.log(`the hooks send the token in ${tokenEnv} where the agent runs`);
  }
  const hint = project ? await gitignoreHint(project, projectFile) : null;
  if (hint) console.log(hint);
  const token = env(tokenEnv) || undefined;
  for (const warning of await checkServer(serverUrl, token, tokenEnv)) {
    console.error(`warning: ${warning}`);
  }
  return 0;
}

/**
 * The installer's command line: `install` or `uninstall`, then a target and options. Returns
 * the exit code: 0 done (also when the server does not answer yet: that is a warning), 1 a
 * settings file hookwatch cannot change, 2 a usage error.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        global: { type: "boolean" },
        project: { type: "string" },
        "dry-run": { type: "boolean" },
        "source-app": { type: "string" },
        "server-url": { type: "string" },
        "add-chat": { type: "boolean" },
        command: { type: "string" },
        decisions: { type: "boolean" },
        "decision-wait": { type: "string" },
        agent: { type: "string" },
        "token-env": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (values.help || (action !== "install" && action !== "uninstall")) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const env = (name: string) => Deno.env.get(name);
  // `deno task` runs in the hookwatch checkout; a relative DIR means where it was typed.
  const project = values.project === undefined
    ? undefined
    : resolve(env("INIT_CWD") || Deno.cwd(), values.project);
  const target = { global: values.global, project };
  const agent = agentOfFlag(values.agent ?? "claude");
  if (!agent) {
    console.error(
      `hookwatch ${action}: --agent must be one of ${
        AGENTS.map((a) => a.flag).join(", ")
      }\n\n${USAGE}`,
    );
    return 2;
  }
  const tokenEnv = values["token-env"] ?? DEFAULT_TOKEN_ENV;
  if (!TOKEN_ENV_NAME.test(tokenEnv)) {
    // Not echoed: it may be the token itself, given where its variable's name belongs.
    console.error(
      `hookwatch ${action}: --token-env NAME must be a shell variable's name ` +
        "([A-Za-z_][A-Za-z0-9_]*), the variable that holds the token where the agent runs",
    );
    return 2;
  }
  let path: string;
  try {
    path = settingsPath(target, env);
  } catch (error) {
    console.error(
      `hookwatch ${action}: ${(error as Error).message}\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    const dryRun = values["dry-run"] ?? false;
    const serverUrl = values["server-url"] ?? defaultServerUrl(env);
    // The default stays out of the command, so HOOKWATCH_URL where the agent runs still counts.
    const bake = values["server-url"] !== undefined ||
      serverUrl !== DEFAULT_SERVER_URL;
    const waitS = Number(values["decision-wait"] ?? DECISION_WAIT_S);
    if (!Number.isInteger(waitS) || waitS < 1 || waitS > 3600) {
      throw new InstallError("--decision-wait must be 1 to 3600 seconds");
    }
    const report = (change: Change, message: string) =>
      console.log(dryRun && change.changed ? diffOf(change) : message);
    const command: CommandOptions = {
      binary: Deno.build.standalone ? Deno.execPath() : undefined,
      front: Deno.build.standalone ? await frontForBinary() : undefined,
      deno: Deno.execPath(),
      sourceApp: values["source-app"],
      serverUrl: bake ? serverUrl : undefined,
      tokenEnv,
    };
    if (agent.name !== DEFAULT_AGENT) {
      if (values["add-chat"]) {
        console.error(
          `warning: --add-chat reads Claude Code's transcripts only; ${agent.label}'s events go without`,
        );
      }
      const { change, target: t } = await runAgent(agent.name, {
        action,
        target,
        dryRun,
        command,
        custom: values.command,
        decideWaitS: values.decisions ? waitS : undefined,
      }, env);
      if (action === "uninstall") {
        report(change, removed(change));
        return 0;
      }
      report(
        change,
        installed(
          change,
          await exists(change.path + BACKUP_SUFFIX),
          `${t.events.length} ${agent.label} events`,
        ),
      );
      for (
        const line of t.needs(target, change.path, values.decisions ?? false)
      ) {
        console.log(`note: ${line}`);
      }
      return await lastWords(
        serverUrl,
        bake,
        project,
        t.projectFile,
        env,
        tokenEnv,
      );
    }
    const decide = values.decisions
      ? decideHandler(
        serverUrl,
        values["source-app"] ??
          (values.global ? "claude-code" : basename(project!)),
        waitS,
        tokenEnv,
      )
      : undefined;
    // Hooks an earlier installer wrote into the committed settings.json move out of it (read
    // first: a file hookwatch cannot parse stops the install before anything is written).
    const legacy = legacyPath(target);
    const moving = legacy !== null && hasOurs(await readOrNull(legacy), legacy);
    if (action === "install") {
      const change = await install(
        path,
        values.command ??
          hookCommand({ ...command, addChat: values["add-chat"] }),
        { dryRun, decide },
      );
      report(
        change,
        installed(
          change,
          await exists(path + BACKUP_SUFFIX),
          `${CORE_HOOK_TYPES.length} events`,
        ),
      );
    } else {
      const change = await uninstall(path, { dryRun });
      report(change, removed(change));
    }
    if (legacy && moving) {
      const old = await uninstall(legacy, { dryRun });
      const why =
        "project hooks live in settings.local.json, not in the committed settings.json";
      report(old, `${removed(old)}: ${why}`);
    }
    if (action === "uninstall") return 0;
    return await lastWords(
      serverUrl,
      bake,
      project,
      ".claude/settings.local.json",
      env,
      tokenEnv,
    );
  } catch (error) {
    console.error(
      `hookwatch ${action}: ${
        error instanceof InstallError ? error.message : (error as Error).stack
      }`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
