/**
 * The real Claude Code CLI, pinned, for end-to-end tests and benchmarks that run it offline
 * against a scripted Messages API (see `fake_anthropic.ts`).
 *
 * {@linkcode installClaude} installs `@anthropic-ai/claude-code` from npm once, into a cache
 * directory, with `--ignore-scripts` (the package's postinstall would fetch nothing we need: the
 * platform package `@anthropic-ai/claude-code-<os>-<arch>` already holds the `claude` binary).
 * {@linkcode runClaude} runs `claude -p` with a throwaway HOME, outside traffic off, and a
 * timeout.
 *
 * @module
 */

import { ROOT } from "./server.ts";

/** The Claude Code version the tests drive. */
export const CLAUDE_CODE_VERSION = "2.1.328";

/** Where the pinned CLI is installed: `$XDG_CACHE_HOME` (else `~/.cache`)`/hookwatch-test/…`. */
export function claudeCacheDir(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  const cache = env("XDG_CACHE_HOME") || `${env("HOME") ?? "/tmp"}/.cache`;
  return `${cache}/hookwatch-test/claude-code-${CLAUDE_CODE_VERSION}`;
}

/** The npm package that carries the native binary for this machine. */
export function platformPackage(): string {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  if (Deno.build.os === "windows") {
    return `@anthropic-ai/claude-code-win32-${arch}`;
  }
  if (Deno.build.os === "darwin") {
    return `@anthropic-ai/claude-code-darwin-${arch}`;
  }
  let musl = false;
  try {
    musl = [...Deno.readDirSync("/lib")].some((e) =>
      e.name.startsWith("ld-musl-")
    );
  } catch { /* no /lib: not musl */ }
  return `@anthropic-ai/claude-code-linux-${arch}${musl ? "-musl" : ""}`;
}

function binaryIn(dir: string): string {
  const name = Deno.build.os === "windows" ? "claude.exe" : "claude";
  return `${dir}/node_modules/${platformPackage()}/${name}`;
}

async function versionOf(binary: string): Promise<string | null> {
  try {
    const out = await new Deno.Command(binary, {
      args: ["--version"],
      env: {
        DISABLE_AUTOUPDATER: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** The installed CLI, or why there is none. */
export type ClaudeInstall = { path: string; error?: undefined } | {
  path?: undefined;
  error: string;
};

let installing: Promise<ClaudeInstall> | null = null;
/** The longest an install may take (the package is about 70 MB). */
const INSTALL_TIMEOUT_MS = 300_000;

/**
 * Installs the pinned CLI (once; later calls and runs reuse the cache) and returns the binary's
 * path, or the reason it cannot be had (no npm, no registry, no binary for this platform).
 * The install goes to a temporary directory renamed into place, so a broken or concurrent
 * install never leaves a half-written cache.
 */
export function installClaude(): Promise<ClaudeInstall> {
  return installing ??= doInstall();
}

async function doInstall(): Promise<ClaudeInstall> {
  const dir = claudeCacheDir();
  const binary = binaryIn(dir);
  const want = `${CLAUDE_CODE_VERSION} (Claude Code)`;
  if (await versionOf(binary) === want) return { path: binary };
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
          `@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`,
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
        error:
          `npm install @anthropic-ai/claude-code@${CLAUDE_CODE_VERSION} failed:\n${
            new TextDecoder().decode(out.stderr).slice(-2000)
          }`,
      };
    }
    const got = await versionOf(binaryIn(tmp));
    if (got !== want) {
      return {
        error:
          `the installed ${platformPackage()} binary did not answer --version with "${want}" (got ${
            JSON.stringify(got)
          })`,
      };
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    try {
      await Deno.rename(tmp, dir);
    } catch (error) {
      // Another process installed it at the same time: use theirs.
      if (await versionOf(binary) !== want) throw error;
    }
    return { path: binary };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Options of {@linkcode runClaude}. */
export interface RunOptions {
  /** The binary, from {@linkcode installClaude}. */
  binary: string;
  prompt: string;
  /** The project directory the CLI works in. */
  cwd: string;
  /** A throwaway HOME (settings, transcripts, the hook sender's spool). */
  home: string;
  /** `ANTHROPIC_BASE_URL`: the scripted Messages API. */
  apiUrl: string;
  /** More environment (telemetry, hookwatch's variables…). */
  env?: Record<string, string>;
  /** Passed as `--debug-file`; its hook lines explain a failure. */
  debugFile?: string;
  /** More CLI arguments, e.g. `["--output-format", "json"]`. */
  args?: string[];
  /** Killed (SIGKILL) after this long. Default 60 s. */
  timeoutMs?: number;
}

/** What one `claude -p` run did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Spawn to exit, milliseconds. */
  wallMs: number;
  timedOut: boolean;
}

/**
 * The environment of a test run: nothing of the caller's but PATH, HOME set to `home`, the
 * Messages API at `apiUrl`, outside traffic and the auto-updater off, and `IS_SANDBOX=1` (as root
 * the CLI refuses `bypassPermissions` without it).
 */
export function claudeEnv(
  home: string,
  apiUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: Deno.env.get("TMPDIR") ?? "/tmp",
    IS_SANDBOX: "1",
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: "sk-ant-test-offline",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    NO_COLOR: "1",
    ...extra,
  };
}

/** Runs `claude -p PROMPT --permission-mode bypassPermissions` and waits for it to exit. */
export async function runClaude(options: RunOptions): Promise<RunResult> {
  const args = [
    "-p",
    options.prompt,
    "--permission-mode",
    "bypassPermissions",
    ...(options.debugFile ? ["--debug-file", options.debugFile] : []),
    ...(options.args ?? []),
  ];
  const started = performance.now();
  const child = new Deno.Command(options.binary, {
    args,
    cwd: options.cwd,
    clearEnv: true,
    env: claudeEnv(options.home, options.apiUrl, options.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs ?? 60_000);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
      wallMs: performance.now() - started,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The lines of a `--debug-file` about hooks (started, backgrounded, finished, cancelled), with
 * long commands cut, for a failure message.
 */
export async function hookDebugLines(debugFile: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(debugFile);
  } catch (error) {
    return `(no debug file: ${(error as Error).message})`;
  }
  return text.split("\n")
    .filter((line) =>
      /\bHooks?\b|async_hook|SessionEnd|turn \d+ end|Shutting down/.test(
        line,
      ) &&
      !line.includes("hooks module cc-plugin")
    )
    .map((line) =>
      line.replace(/\[[^\]]{80,}\]/, (m) => `[${m.slice(1, 60)}…]`)
    )
    .join("\n");
}

/**
 * The hooks the CLI cancelled, from a `--debug-file` (`Hook Stop (Stop) cancelled:`): the
 * async hooks still running when print mode ended its turn, which it SIGTERMs.
 */
export async function cancelledHooks(debugFile: string): Promise<string[]> {
  const text = await Deno.readTextFile(debugFile).catch(() => "");
  return [...text.matchAll(/Hook (\S+) \((\w+)\) cancelled/g)].map((m) => m[1]);
}

/** Where and how {@linkcode installHooks} installs. */
export interface InstallOptions {
  project: string;
  serverUrl: string;
  /** The throwaway HOME the CLI runs with. */
  home: string;
  /** More installer flags, e.g. `["--decisions", "--decision-wait", "3"]`. */
  args?: string[];
}

/** Installs hookwatch's hooks the way a user does, with the real installer; throws on failure. */
export async function installHooks(options: InstallOptions): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "hooks/install.ts",
      "install",
      "--project",
      options.project,
      "--server-url",
      options.serverUrl,
      ...(options.args ?? []),
    ],
    cwd: ROOT,
    env: { HOME: options.home, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    throw new Error(`the installer failed:\n${text}`);
  }
}
