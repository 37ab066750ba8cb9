/**
 * Codex, Gemini CLI and Copilot CLI with hookwatch's hooks installed the way a user installs
 * them (the real installer, `--global` into a throwaway HOME), run for one turn against their
 * stand-in (`fake_openai.ts`, `fake_gemini.ts`): for the agents' end-to-end tests and benches.
 * Each {@linkcode AgentCase} knows its agent's names, its hook file, its user's own hooks
 * (capture hooks, to know what the CLI really fired) and how one turn runs.
 *
 * @module
 */
import type { AgentName as StoredAgent } from "../../common/adapters/names.ts";
import {
  type AgentName as CliAgent,
  agentOrSkip,
  type AgentRunOptions,
  type AgentRunResult,
  captureCommand,
  codexHome,
  copilotHome,
  runCodex,
  runCopilot,
  runGemini,
} from "./agent_clis.ts";
import {
  type RecordedRequest,
  shellThenAnswer,
  startFakeOpenAI,
} from "./fake_openai.ts";
import { geminiShellThenAnswer, startFakeGemini } from "./fake_gemini.ts";
import { runInstaller } from "./installer.ts";

export type { CliAgent };

/** The command every scripted turn runs; `probe.txt` tells whether it ran. */
export const PROBE = "echo hookwatch-probe | tee probe.txt";
/** The prompt of every scripted turn. */
export const PROMPT = "Run `echo hookwatch-probe | tee probe.txt`.";

/** Spares hookwatch's detached sender when a run's stragglers are killed. */
export const SENDER = /send_event\.ts/;

/** A stand-in model API of either kind, as the tests read it. */
export interface Api {
  url: string;
  errors: string[];
  /** Token usage it reported, summed over the requests with usage. */
  usage(): { input: number; cached: number; output: number; requests: number };
  /** The last request's body as JSON text (what the model was told last). */
  lastBody(): string;
  close(): Promise<void>;
}

/** A throwaway project, HOME and capture directory. */
export interface Sandbox {
  root: string;
  project: string;
  home: string;
  captures: string;
  spool: string;
}

/** Creates a {@linkcode Sandbox}. */
export async function sandbox(prefix = "hookwatch-agents-"): Promise<Sandbox> {
  const root = await Deno.makeTempDir({ prefix });
  const sb = {
    root,
    project: `${root}/project`,
    home: `${root}/home`,
    captures: `${root}/captures`,
    spool: `${root}/home/.local/state/hookwatch`,
  };
  for (const dir of [sb.project, sb.home, sb.captures]) await Deno.mkdir(dir);
  return sb;
}

/** Removes a sandbox once no detached sender works in its spool any more (bounded). */
export async function removeSandbox(sb: Sandbox): Promise<void> {
  await sendersDone(sb);
  await Deno.remove(sb.root, { recursive: true }).catch(() => {});
}

/** Waits (at most `boundMs`) until no sender holds a run directory in the sandbox's spool. */
export async function sendersDone(
  sb: Sandbox,
  boundMs = 10_000,
): Promise<void> {
  const until = performance.now() + boundMs;
  while (performance.now() < until) {
    const busy = await Array.fromAsync(Deno.readDir(sb.spool), (e) => e.name)
      .then((names) => names.some((n) => n.startsWith("run-")))
      .catch(() => false);
    if (!busy) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a turn needs beyond the sandbox. */
export interface TurnOptions {
  program: string;
  api: Api;
  env?: Record<string, string>;
  /** Codex: `approve-for-me` (an escalated call goes to PermissionRequest). */
  approvals?: "bypass" | "approve-for-me";
  /** Codex `[otel]` and other config.toml additions. */
  configToml?: string;
  /** Copilot: pass `--allow-all-tools` (default true). */
  allowAllTools?: boolean;
  timeoutMs?: number;
}

/** One agent, as the end-to-end tests and benches drive it. */
export interface AgentCase {
  cli: CliAgent;
  /** The `agent` its events are stored with. */
  agent: StoredAgent;
  /** `hooks:install --agent`. */
  flag: string;
  /** The common types one turn stores, in order. */
  turn: string[];
  /** The agent's own names of the same events, in order. */
  native: string[];
  /** Starts a stand-in answering one shell call of {@linkcode PROBE}, then text. */
  startApi(options?: { escalated?: boolean }): Promise<Api>;
  /** The installer's environment for a throwaway HOME (`CODEX_HOME`, `COPILOT_HOME`). */
  homeEnv(home: string): Record<string, string>;
  /** The global hook file hookwatch's installer writes there. */
  hookFile(home: string): string;
  /**
   * Writes the user's own hooks and settings before hookwatch's install: capture hooks
   * (`captureCommand`) on every event hookwatch installs, in the agent's own format and file
   * (Copilot: a file of their own beside hookwatch's). Returns the files written.
   */
  userFiles(sb: Sandbox): Promise<string[]>;
  /** Runs one turn in the sandbox (the hooks are whatever is installed there). */
  run(sb: Sandbox, options: TurnOptions): Promise<AgentRunResult>;
  /** What makes the agent export its own telemetry (OTLP/HTTP) to `url`. */
  telemetry(url: string): Pick<TurnOptions, "env" | "configToml">;
}

function openaiApi(
  fake: Awaited<ReturnType<typeof startFakeOpenAI>>,
): Api {
  return {
    url: fake.url,
    errors: fake.errors,
    usage() {
      const used = fake.requests.filter((r: RecordedRequest) => r.usage);
      return {
        input: used.reduce((n, r) => n + r.usage!.input_tokens, 0),
        cached: used.reduce((n, r) => n + r.usage!.cached_tokens, 0),
        output: used.reduce((n, r) => n + r.usage!.output_tokens, 0),
        requests: used.length,
      };
    },
    lastBody: () => JSON.stringify(fake.requests.at(-1)?.body ?? null),
    close: () => fake.close(),
  };
}

const DENO_DIR = Deno.env.get("DENO_DIR") ||
  `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;

/**
 * The environment every agent run gets for hookwatch's hooks: the developer's Deno cache (the
 * sender is compiled once, as on a user's machine, not in every throwaway HOME).
 */
export const HOOK_ENV: Readonly<Record<string, string>> = Object.freeze({
  DENO_DIR,
});

/** What every agent's turn is run with: the sandbox, the stand-in, the sender spared. */
function runOptions(sb: Sandbox, o: TurnOptions): AgentRunOptions {
  return {
    program: o.program,
    prompt: PROMPT,
    cwd: sb.project,
    home: sb.home,
    apiUrl: o.api.url,
    env: { ...HOOK_ENV, ...o.env },
    timeoutMs: o.timeoutMs,
    spare: SENDER,
  };
}

/** Nested (Claude Code-shaped) capture hooks, for Codex and Gemini CLI. */
function nestedCaptures(
  dir: string,
  events: readonly string[],
  timeout: number,
): Record<string, unknown> {
  return Object.fromEntries(events.map((e) => [e, [{
    hooks: [{ type: "command", command: captureCommand(dir, e), timeout }],
  }]]));
}

const CODEX_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "Stop",
  "SessionEnd",
];

const GEMINI_EVENTS = [
  "SessionStart",
  "BeforeAgent",
  "BeforeTool",
  "AfterTool",
  "AfterAgent",
  "SessionEnd",
];

/** The agents, by CLI. */
export const AGENT_CASES: Record<CliAgent, AgentCase> = {
  codex: {
    cli: "codex",
    agent: "codex",
    flag: "codex",
    turn: CODEX_EVENTS,
    native: CODEX_EVENTS,
    async startApi(options = {}) {
      return openaiApi(
        await startFakeOpenAI({
          script: shellThenAnswer({
            command: PROBE,
            extra: options.escalated
              ? {
                sandbox_permissions: "require_escalated",
                justification: "hookwatch test",
              }
              : {},
          }),
        }),
      );
    },
    telemetry: (url) => ({
      configToml: [
        "[otel]",
        `exporter = { otlp-http = { endpoint = "${url}/v1/logs", protocol = "binary" } }`,
        `trace_exporter = { otlp-http = { endpoint = "${url}/v1/traces", protocol = "binary" } }`,
        `metrics_exporter = { otlp-http = { endpoint = "${url}/v1/metrics", protocol = "binary" } }`,
        "",
      ].join("\n"),
    }),
    homeEnv: (home) => ({ CODEX_HOME: codexHome(home) }),
    hookFile: (home) => `${codexHome(home)}/hooks.json`,
    async userFiles(sb) {
      const path = `${codexHome(sb.home)}/hooks.json`;
      await Deno.mkdir(codexHome(sb.home), { recursive: true });
      // A user's own file: their capture hooks, four-space indent, a key of their own.
      await Deno.writeTextFile(
        path,
        JSON.stringify(
          {
            hooks: nestedCaptures(sb.captures, [
              ...CODEX_EVENTS,
              "PermissionRequest",
            ], 5),
          },
          null,
          4,
        ) + "\n",
      );
      return [path];
    },
    run: (sb, o) =>
      runCodex({
        ...runOptions(sb, o),
        approvals: o.approvals,
        configToml: o.configToml,
      }),
  },
  gemini: {
    cli: "gemini",
    agent: "gemini-cli",
    flag: "gemini",
    turn: CODEX_EVENTS,
    native: GEMINI_EVENTS,
    async startApi() {
      const fake = await startFakeGemini({
        script: geminiShellThenAnswer({ command: PROBE }),
      });
      return {
        url: fake.url,
        errors: fake.errors,
        usage() {
          const used = fake.requests.filter((r) => r.usage);
          return {
            input: used.reduce((n, r) => n + r.usage!.promptTokenCount, 0),
            cached: used.reduce(
              (n, r) => n + r.usage!.cachedContentTokenCount,
              0,
            ),
            output: used.reduce(
              (n, r) =>
                n + r.usage!.candidatesTokenCount + r.usage!.thoughtsTokenCount,
              0,
            ),
            requests: used.length,
          };
        },
        lastBody: () => JSON.stringify(fake.requests.at(-1)?.body ?? null),
        close: () => fake.close(),
      };
    },
    telemetry: (url) => ({
      env: {
        GEMINI_TELEMETRY_ENABLED: "true",
        GEMINI_TELEMETRY_TARGET: "local",
        GEMINI_TELEMETRY_OTLP_ENDPOINT: url,
        GEMINI_TELEMETRY_OTLP_PROTOCOL: "http",
      },
    }),
    homeEnv: () => ({}),
    hookFile: (home) => `${home}/.gemini/settings.json`,
    async userFiles(sb) {
      const path = `${sb.home}/.gemini/settings.json`;
      await Deno.mkdir(`${sb.home}/.gemini`, { recursive: true });
      await Deno.writeTextFile(
        path,
        JSON.stringify(
          {
            security: { auth: { selectedType: "gemini-api-key" } },
            ui: { theme: "GitHub" },
            hooks: nestedCaptures(sb.captures, GEMINI_EVENTS, 5000),
          },
          null,
          4,
        ) + "\n",
      );
      return [path];
    },
    run: (sb, o) => runGemini(runOptions(sb, o)),
  },
  copilot: {
    cli: "copilot",
    agent: "copilot-cli",
    flag: "copilot",
    turn: CODEX_EVENTS,
    native: [
      "sessionStart",
      "userPromptSubmitted",
      "preToolUse",
      "postToolUse",
      "agentStop",
      "sessionEnd",
    ],
    async startApi() {
      return openaiApi(
        await startFakeOpenAI({ script: shellThenAnswer({ command: PROBE }) }),
      );
    },
    telemetry: (url) => ({
      env: {
        COPILOT_OTEL_ENABLED: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      },
    }),
    homeEnv: (home) => ({ COPILOT_HOME: copilotHome(home) }),
    hookFile: (home) => `${copilotHome(home)}/hooks/hookwatch.json`,
    async userFiles(sb) {
      const path = `${copilotHome(sb.home)}/hooks/mine.json`;
      await Deno.mkdir(`${copilotHome(sb.home)}/hooks`, { recursive: true });
      const events = AGENT_CASES.copilot.native;
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          version: 1,
          hooks: Object.fromEntries(events.map((e) => [e, [{
            type: "command",
            bash: captureCommand(sb.captures, e),
            timeoutSec: 5,
          }]])),
        }) + "\n",
      );
      return [path];
    },
    run: (sb, o) =>
      runCopilot({ ...runOptions(sb, o), allowAllTools: o.allowAllTools }),
  },
};

/**
 * Installs (or uninstalls) hookwatch's hooks for `c` with the real installer, `--global` in
 * the sandbox's HOME; throws on failure. Returns what the installer printed.
 */
export async function installer(
  c: AgentCase,
  sb: Sandbox,
  action: "install" | "uninstall",
  args: string[] = [],
): Promise<string> {
  const out = await runInstaller(
    [action, "--agent", c.flag, "--global", ...args],
    { env: { HOME: sb.home, ...HOOK_ENV, ...c.homeEnv(sb.home) } },
  );
  if (out.code !== 0) {
    throw new Error(
      `hooks:${action} --agent ${c.flag} failed (${out.code}):\n${out.stdout}${out.stderr}`,
    );
  }
  return out.stdout + out.stderr;
}

/** The CLI's program, or null when its tests are skipped (see `agentOrSkip`). */
export function programOf(c: AgentCase, test: string): Promise<string | null> {
  return agentOrSkip(c.cli, test);
}
