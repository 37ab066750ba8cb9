/**
 * The real OpenAI Codex CLI, Google Gemini CLI and GitHub Copilot CLI, pinned, for end-to-end
 * tests and benchmarks that run them offline against scripted model APIs
 * (`fake_openai.ts`, `fake_gemini.ts`).
 *
 * {@linkcode installCodex}, {@linkcode installGemini} and {@linkcode installCopilot} install the
 * pinned npm package once, into a cache directory, with `--ignore-scripts` (each package
 * already holds the program: Codex a static musl binary in `@openai/codex-linux-x64`, Gemini a
 * JS bundle run by `node`, Copilot a native binary in `@github/copilot-linux-x64`).
 * {@linkcode runCodex}, {@linkcode runGemini} and {@linkcode runCopilot} run one
 * non-interactive turn with a throwaway HOME, stdin from /dev/null, in a process group of its
 * own (killed whole after the run and on the timeout), pointed at the stand-in, with the hooks
 * given in the agent's own format.
 *
 * A CLI that cannot be installed is reported ({@linkcode AgentInstall}`.error`), so a test can
 * skip it — unless `HOOKWATCH_REQUIRE_AGENTS=1` ({@linkcode agentsRequired}), as
 * `HOOKWATCH_REQUIRE_CLAUDE` does for Claude Code.
 *
 * @module
 */

import { FAKE_MODEL } from "./fake_openai.ts";

/** The agents these helpers drive. */
export type AgentName = "codex" | "gemini" | "copilot";

/** The pinned npm package and version of each agent. */
export const AGENT_PACKAGES: Record<
  AgentName,
  { name: string; version: string }
> = {
  codex: { name: "@openai/codex", version: "0.171.0" },
  gemini: { name: "@google/gemini-cli", version: "0.61.0" },
  copilot: { name: "@github/copilot", version: "1.0.102" },
};

/** Whether a missing CLI fails the tests (`HOOKWATCH_REQUIRE_AGENTS=1`) instead of skipping them. */
export function agentsRequired(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): boolean {
  return env("HOOKWATCH_REQUIRE_AGENTS") === "1";
}

/** `$XDG_CACHE_HOME` (else `~/.cache`)`/hookwatch-test`. */
function cacheRoot(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  const cache = env("XDG_CACHE_HOME") || `${env("HOME") ?? "/tmp"}/.cache`;
  return `${cache}/hookwatch-test`;
}

/** Where an agent's pinned package is installed. */
export function agentCacheDir(
  agent: AgentName,
  env?: (name: string) => string | undefined,
): string {
  const { name, version } = AGENT_PACKAGES[agent];
  return `${cacheRoot(env)}/${name.split("/")[1]}-${version}`;
}

/**
 * The `XDG_CACHE_HOME` every Copilot run shares: its first start unpacks about 235 MB into
 * `$XDG_CACHE_HOME/copilot/pkg`, which would otherwise happen in every throwaway HOME.
 */
export function copilotSharedCache(
  env?: (name: string) => string | undefined,
): string {
  return `${cacheRoot(env)}/copilot-xdg-cache`;
}

function isMusl(): boolean {
  try {
    return [...Deno.readDirSync("/lib")].some((e) =>
      e.name.startsWith("ld-musl-")
    );
  } catch {
    return false;
  }
}

/** The program inside an install directory (a JS file for Gemini, a binary otherwise). */
function programIn(agent: AgentName, dir: string): string {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const os = Deno.build.os === "darwin" ? "darwin" : "linux";
  if (agent === "codex") {
    const triple = Deno.build.os === "darwin"
      ? `${Deno.build.arch}-apple-darwin`
      : `${Deno.build.arch}-unknown-linux-musl`;
    return `${dir}/node_modules/@openai/codex-${os}-${arch}/vendor/${triple}/bin/codex`;
  }
  if (agent === "gemini") {
    return `${dir}/node_modules/@google/gemini-cli/bundle/gemini.js`;
  }
  const libc = os === "linux" && isMusl() ? "linuxmusl" : os;
  return `${dir}/node_modules/@github/copilot-${libc}-${arch}/copilot`;
}

/** The command line running a program: Gemini's bundle goes through `node`. */
function commandOf(agent: AgentName, program: string): [string, string[]] {
  return agent === "gemini" ? ["node", [program]] : [program, []];
}

const decoder = new TextDecoder();

/** What `--version` prints for the pinned version. */
function wantedVersion(agent: AgentName): RegExp {
  const v = AGENT_PACKAGES[agent].version.replaceAll(".", "\\.");
  return agent === "codex"
    ? new RegExp(`^codex-cli ${v}$`)
    : agent === "gemini"
    ? new RegExp(`^${v}$`)
    : new RegExp(`^GitHub Copilot CLI ${v}\\.`);
}

async function versionOf(
  agent: AgentName,
  program: string,
): Promise<string | null> {
  const [cmd, pre] = commandOf(agent, program);
  const home = await Deno.makeTempDir({ prefix: "hookwatch-agent-version-" });
  try {
    const out = await new Deno.Command(cmd, {
      args: [...pre, "--version"],
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: home,
        // Copilot unpacks itself on its first start: do it once, into the shared cache.
        XDG_CACHE_HOME: copilotSharedCache(),
        COPILOT_AUTO_UPDATE: "false",
        GEMINI_CLI_NO_RELAUNCH: "true",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return null;
    return decoder.decode(out.stdout).trim().split("\n")[0].trim();
  } catch {
    return null;
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

/** An installed CLI (`path` of its program), or why there is none. */
export type AgentInstall = { path: string; error?: undefined } | {
  path?: undefined;
  error: string;
};

/** The longest an install may take. */
const INSTALL_TIMEOUT_MS = 300_000;
const installs = new Map<AgentName, Promise<AgentInstall>>();

/**
 * Installs an agent's pinned package (once per process; later calls and runs reuse the cache)
 * and returns its program's path, or the reason it cannot be had. The install goes to a
 * temporary directory renamed into place, so a broken or concurrent install never leaves a
 * half-written cache.
 */
export function installAgent(agent: AgentName): Promise<AgentInstall> {
  let p = installs.get(agent);
  if (!p) {
    p = doInstall(agent);
    installs.set(agent, p);
  }
  return p;
}

/** {@linkcode installAgent} for Codex: the path of the `codex` binary. */
export function installCodex(): Promise<AgentInstall> {
  return installAgent("codex");
}

/** {@linkcode installAgent} for Gemini CLI: the path of `bundle/gemini.js` (run with node). */
export function installGemini(): Promise<AgentInstall> {
  return installAgent("gemini");
}

/** {@linkcode installAgent} for Copilot CLI: the path of the `copilot` binary. */
export function installCopilot(): Promise<AgentInstall> {
  return installAgent("copilot");
}

async function doInstall(agent: AgentName): Promise<AgentInstall> {
  const { name, version } = AGENT_PACKAGES[agent];
  const dir = agentCacheDir(agent);
  const want = wantedVersion(agent);
  const program = programIn(agent, dir);
  if (want.test(await versionOf(agent, program) ?? "")) {
    return { path: program };
  }
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: ".install-" });
  try {
    await Deno.writeTextFile(`${tmp}/package.json`, '{"private":true}\n');
    let out: Deno.CommandOutput;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const npm = new Deno.Command("npm", {
        args: [
          "install",
          "--ignore-scripts",
          "--no-save",
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
          "--fetch-retries=1",
          "--fetch-timeout=60000",
          "--prefix",
          tmp,
          `${name}@${version}`,
        ],
        cwd: tmp,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // A registry that never answers must not hang the suite.
      timer = setTimeout(() => {
        try {
          npm.kill("SIGKILL");
        } catch { /* already gone */ }
      }, INSTALL_TIMEOUT_MS);
      out = await npm.output();
    } catch (error) {
      return { error: `cannot run npm: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    if (!out.success) {
      return {
        error: `npm install ${name}@${version} failed:\n${
          decoder.decode(out.stderr).slice(-2000)
        }`,
      };
    }
    const got = await versionOf(agent, programIn(agent, tmp));
    if (!want.test(got ?? "")) {
      return {
        error: `the installed ${
          programIn(agent, tmp)
        } did not answer --version with ${want} (got ${JSON.stringify(got)})`,
      };
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    try {
      await Deno.rename(tmp, dir);
    } catch (error) {
      // Another process installed it at the same time: use theirs.
      if (!want.test(await versionOf(agent, program) ?? "")) throw error;
    }
    return { path: program };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * The installed program, or null when the tests of this agent should be ignored (a warning
 * says why). With `HOOKWATCH_REQUIRE_AGENTS=1` a missing CLI throws instead.
 */
export async function agentOrSkip(
  agent: AgentName,
  test = "agent test",
): Promise<string | null> {
  const install = await installAgent(agent);
  if (install.path) return install.path;
  const { name, version } = AGENT_PACKAGES[agent];
  if (agentsRequired()) {
    throw new Error(
      `HOOKWATCH_REQUIRE_AGENTS=1 but ${name}@${version} cannot be had: ${install.error}`,
    );
  }
  console.warn(
    `${test}: ${name}@${version} is not available, its tests ignored (HOOKWATCH_REQUIRE_AGENTS=1 makes them fail): ${install.error}`,
  );
  return null;
}

/** Options common to every agent's run. */
export interface AgentRunOptions {
  /** The program, from the install. */
  program: string;
  prompt: string;
  /** The project directory the agent works in. */
  cwd: string;
  /** A throwaway HOME; the agent's own home (`.codex`, `.gemini`, `.copilot`) goes under it. */
  home: string;
  /** The stand-in's `http://127.0.0.1:PORT` (without `/v1`). */
  apiUrl: string;
  /**
   * The hook configuration in the agent's own format: the value of `hooks` (Codex and Gemini:
   * `{EventName: [{matcher?, hooks: [{type: "command", command, timeout?}]}]}`; Copilot:
   * `{eventName: [{type: "command", bash, timeoutSec?}]}`). Written to the agent's global
   * (home) hook file; none when absent.
   */
  hooks?: Record<string, unknown>;
  /** More environment (telemetry…). */
  env?: Record<string, string>;
  /** More CLI arguments. */
  args?: string[];
  /** The whole process group is killed (SIGKILL) after this long. Default 60 s. */
  timeoutMs?: number;
  /**
   * Processes left with the run's HOME whose command line matches are spared (hookwatch's
   * detached sender, which delivers after the agent exits); every other straggler is killed.
   */
  spare?: RegExp;
}

/** What one run did. */
export interface AgentRunResult {
  code: number;
  /** The signal that ended it, if one did. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit, milliseconds. */
  wallMs: number;
  timedOut: boolean;
  /** The session id: Codex's `thread_id`, Gemini's and Copilot's the one passed in. */
  sessionId: string | null;
}

function basePath(): string {
  return Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
}

/**
 * SIGKILLs every process whose environment has `HOME=home` (Linux `/proc`): the run's
 * stragglers that left its process group — Codex starts each hook in a process group of its
 * own, so a hook still running when Codex is killed would outlive the run. `home` is a
 * throwaway directory of this run, so nothing else matches.
 */
export async function killStragglers(
  home: string,
  spare?: RegExp,
): Promise<number[]> {
  if (Deno.build.os !== "linux") return [];
  const needle = new TextEncoder().encode(`\0HOME=${home}\0`);
  const killed: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    let environ: Uint8Array;
    try {
      environ = await Deno.readFile(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    const padded = new Uint8Array(environ.length + 1);
    padded.set(environ, 1);
    if (indexOf(padded, needle) < 0) continue;
    if (spare) {
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(
        () => "",
      );
      if (spare.test(cmdline.replaceAll("\0", " "))) continue;
    }
    try {
      Deno.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch { /* gone */ }
  }
  return killed;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Sends a signal to a whole process group, ignoring a group that is gone. */
function killGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch { /* no such group: all gone */ }
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  chunks: Uint8Array[],
): Promise<void> {
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch { /* cancelled */ }
}

function joined(chunks: Uint8Array[]): string {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return decoder.decode(out);
}

/**
 * Spawns a command in its own process group (setsid), stdin from /dev/null, and waits for it;
 * after it exits, or on the timeout, SIGKILLs what is left of the group (a hook's stray
 * children) and, with `home`, every process still running with that HOME (see
 * {@linkcode killStragglers}), so nothing outlives the run or holds its pipes.
 */
export async function spawnGroup(
  cmd: string,
  args: string[],
  options: {
    cwd: string;
    env: Record<string, string>;
    timeoutMs: number;
    /** The run's throwaway HOME: processes left with it are killed after the run. */
    home?: string;
    /** Stragglers whose command line matches are spared. */
    spare?: RegExp;
  },
): Promise<Omit<AgentRunResult, "sessionId">> {
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    clearEnv: true,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const reading = Promise.all([
    readAll(child.stdout, out),
    readAll(child.stderr, err),
  ]);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, "SIGKILL");
  }, options.timeoutMs);
  let status: Deno.CommandStatus;
  try {
    status = await child.status;
  } finally {
    clearTimeout(timer);
  }
  const wallMs = performance.now() - started;
  killGroup(child.pid, "SIGKILL");
  if (options.home) await killStragglers(options.home, options.spare);
  // The pipes close once the group is gone; bound the wait regardless.
  let bound: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    reading,
    new Promise((resolve) => bound = setTimeout(resolve, 2_000)),
  ]);
  clearTimeout(bound);
  return {
    code: status.code,
    signal: status.signal,
    stdout: joined(out),
    stderr: joined(err),
    wallMs,
    timedOut,
  };
}

/** Options of {@linkcode runCodex}. */
export interface CodexRunOptions extends AgentRunOptions {
  /**
   * How tool calls are approved: `bypass` (`--dangerously-bypass-approvals-and-sandbox`, the
   * default) or `approve-for-me` (`--approve-for-me`: an escalated command goes to the
   * `PermissionRequest` hook, then to Codex's automatic reviewer).
   */
  approvals?: "bypass" | "approve-for-me";
  /** Pass `--dangerously-bypass-hook-trust` (default true): untrusted hooks are skipped silently. */
  bypassHookTrust?: boolean;
  /** More `config.toml` (e.g. an `[otel]` table), appended after the provider. */
  configToml?: string;
}

/** `$CODEX_HOME` of a run's HOME. */
export function codexHome(home: string): string {
  return `${home}/.codex`;
}

/** The `config.toml` pointing Codex at the stand-in's Responses API. */
export function codexConfig(apiUrl: string, extra = ""): string {
  return [
    `model = "${FAKE_MODEL}"`,
    `model_provider = "fake"`,
    "",
    "[model_providers.fake]",
    `name = "fake"`,
    `base_url = "${apiUrl}/v1"`,
    `wire_api = "responses"`,
    `env_key = "FAKE_KEY"`,
    "",
    extra,
  ].join("\n");
}

/**
 * Runs `codex exec --json PROMPT` with `CODEX_HOME=$HOME/.codex` (its `config.toml` naming the
 * stand-in, its `hooks.json` the given hooks) and waits for it to exit. The session id is the
 * `thread_id` of the first JSON line.
 */
export async function runCodex(
  options: CodexRunOptions,
): Promise<AgentRunResult> {
  const dir = codexHome(options.home);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    codexConfig(options.apiUrl, options.configToml),
  );
  if (options.hooks) {
    await Deno.writeTextFile(
      `${dir}/hooks.json`,
      JSON.stringify({ hooks: options.hooks }, null, 2),
    );
  }
  const args = [
    "exec",
    "--skip-git-repo-check",
    "--json",
    "-C",
    options.cwd,
    options.approvals === "approve-for-me"
      ? "--approve-for-me"
      : "--dangerously-bypass-approvals-and-sandbox",
    ...(options.bypassHookTrust === false
      ? []
      : ["--dangerously-bypass-hook-trust"]),
    ...(options.args ?? []),
    options.prompt,
  ];
  const result = await spawnGroup(options.program, args, {
    cwd: options.cwd,
    env: {
      PATH: basePath(),
      HOME: options.home,
      TMPDIR: Deno.env.get("TMPDIR") ?? "/tmp",
      CODEX_HOME: dir,
      FAKE_KEY: "sk-test-offline",
      NO_COLOR: "1",
      ...options.env,
    },
    timeoutMs: options.timeoutMs ?? 60_000,
    home: options.home,
    spare: options.spare,
  });
  let sessionId: string | null = null;
  try {
    sessionId = JSON.parse(result.stdout.split("\n")[0]).thread_id ?? null;
  } catch { /* no JSON line */ }
  return { ...result, sessionId };
}

/** Options of {@linkcode runGemini}. */
export interface GeminiRunOptions extends AgentRunOptions {
  /** More of `~/.gemini/settings.json` (merged at the top level). */
  settings?: Record<string, unknown>;
  /** The session id passed as `--session-id`; a random UUID by default. */
  sessionId?: string;
}

/**
 * Runs `node gemini.js -p PROMPT --yolo --skip-trust --session-id UUID -o json` against the
 * stand-in (`GOOGLE_GEMINI_BASE_URL`, an API key, `security.auth.selectedType =
 * "gemini-api-key"` and the hooks in `~/.gemini/settings.json`) and waits for it to exit.
 * `GEMINI_CLI_NO_RELAUNCH=true` keeps it from re-spawning itself (half the start-up time).
 */
export async function runGemini(
  options: GeminiRunOptions,
): Promise<AgentRunResult> {
  const dir = `${options.home}/.gemini`;
  await Deno.mkdir(dir, { recursive: true });
  // Settings already there (an installer's hooks, a user's own) are kept as they are when they
  // select the API key already and nothing is to be added.
  const existing = await Deno.readTextFile(`${dir}/settings.json`).then(
    (text) => JSON.parse(text),
    () => null,
  );
  const ready = existing?.security?.auth?.selectedType === "gemini-api-key";
  if (!ready || options.hooks || options.settings) {
    const settings: Record<string, unknown> = {
      ...existing,
      security: { auth: { selectedType: "gemini-api-key" } },
      ...(options.hooks ? { hooks: options.hooks } : {}),
      ...options.settings,
    };
    await Deno.writeTextFile(
      `${dir}/settings.json`,
      JSON.stringify(settings, null, 2),
    );
  }
  const sessionId = options.sessionId ?? crypto.randomUUID();
  const [cmd, pre] = commandOf("gemini", options.program);
  const result = await spawnGroup(cmd, [
    ...pre,
    "-p",
    options.prompt,
    "--yolo",
    "--skip-trust",
    "--session-id",
    sessionId,
    "-o",
    "json",
    ...(options.args ?? []),
  ], {
    cwd: options.cwd,
    env: {
      PATH: basePath(),
      HOME: options.home,
      TMPDIR: Deno.env.get("TMPDIR") ?? "/tmp",
      GOOGLE_GEMINI_BASE_URL: options.apiUrl,
      GEMINI_API_KEY: "test-offline",
      GEMINI_CLI_NO_RELAUNCH: "true",
      NO_COLOR: "1",
      ...options.env,
    },
    timeoutMs: options.timeoutMs ?? 60_000,
    home: options.home,
    spare: options.spare,
  });
  let reported: string | null = null;
  try {
    reported = JSON.parse(result.stdout).session_id ?? null;
  } catch { /* not JSON */ }
  return { ...result, sessionId: reported ?? sessionId };
}

/** Options of {@linkcode runCopilot}. */
export interface CopilotRunOptions extends AgentRunOptions {
  /** Pass `--allow-all-tools` (default true). */
  allowAllTools?: boolean;
  /** The session id passed as `--session-id` (a UUID); a random one by default. */
  sessionId?: string;
  /** The hook file's name under `$COPILOT_HOME/hooks/` (default `hooks.json`). */
  hookFile?: string;
}

/** `$COPILOT_HOME` of a run's HOME. */
export function copilotHome(home: string): string {
  return `${home}/.copilot`;
}

/**
 * Runs `copilot -p PROMPT --allow-all-tools --no-auto-update --session-id UUID` against the
 * stand-in's Chat Completions API (`COPILOT_PROVIDER_*`, offline, no auto-update), with
 * `COPILOT_HOME=$HOME/.copilot` (the hooks in `hooks/hooks.json` there) and the shared unpack
 * cache as `XDG_CACHE_HOME`, and waits for it to exit.
 */
export async function runCopilot(
  options: CopilotRunOptions,
): Promise<AgentRunResult> {
  const dir = copilotHome(options.home);
  await Deno.mkdir(`${dir}/hooks`, { recursive: true });
  if (options.hooks) {
    await Deno.writeTextFile(
      `${dir}/hooks/${options.hookFile ?? "hooks.json"}`,
      JSON.stringify({ version: 1, hooks: options.hooks }, null, 2),
    );
  }
  const sessionId = options.sessionId ?? crypto.randomUUID();
  const result = await spawnGroup(options.program, [
    "-p",
    options.prompt,
    ...(options.allowAllTools === false ? [] : ["--allow-all-tools"]),
    "--no-auto-update",
    "--session-id",
    sessionId,
    ...(options.args ?? []),
  ], {
    cwd: options.cwd,
    env: {
      PATH: basePath(),
      HOME: options.home,
      TMPDIR: Deno.env.get("TMPDIR") ?? "/tmp",
      XDG_CACHE_HOME: copilotSharedCache(),
      COPILOT_HOME: dir,
      COPILOT_PROVIDER_BASE_URL: `${options.apiUrl}/v1`,
      COPILOT_PROVIDER_TYPE: "openai",
      COPILOT_PROVIDER_API_KEY: "sk-test-offline",
      COPILOT_MODEL: FAKE_MODEL,
      COPILOT_OFFLINE: "true",
      COPILOT_AUTO_UPDATE: "false",
      NO_COLOR: "1",
      ...options.env,
    },
    timeoutMs: options.timeoutMs ?? 60_000,
    home: options.home,
    spare: options.spare,
  });
  return { ...result, sessionId };
}

/**
 * A capture hook command: writes its stdin, byte for byte, to a new file
 * `DIR/<nanoseconds>-<pid>-EVENT.json`, then runs `extra` (shell, e.g. `exit 1`, `sleep 30` or
 * `printf '{…}'`). Plain `sh` and coreutils, so it costs what a shell costs.
 */
export function captureCommand(
  dir: string,
  event: string,
  extra = "",
): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return [
    `cat > ${q(dir)}/"$(date +%s%N)-$$-"${q(event)}.json`,
    ...(extra ? [extra] : []),
  ].join("; ");
}

/** One hook input a capture hook wrote. */
export interface CapturedHook {
  /** The event name the hook was registered under. */
  event: string;
  /** When the hook ran, ms since the epoch. */
  at: number;
  /** The hook's stdin, as received. */
  input: string;
}

/** The inputs the capture hooks wrote into `dir`, in the order the hooks ran. */
export async function readCaptures(dir: string): Promise<CapturedHook[]> {
  const names = await Array.fromAsync(Deno.readDir(dir), (e) => e.name)
    .catch(() => [] as string[]);
  const out: CapturedHook[] = [];
  for (const name of names.sort()) {
    const m = /^(\d+)-\d+-(.+)\.json$/.exec(name);
    if (!m) continue;
    out.push({
      event: m[2],
      at: Number(BigInt(m[1]) / 1_000_000n),
      input: await Deno.readTextFile(`${dir}/${name}`),
    });
  }
  return out;
}
