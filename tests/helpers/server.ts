/**
 * Starts a real hookwatch process on a free loopback port, for end-to-end tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** A running hookwatch process. */
export interface TestServer {
  url: string;
  port: number;
  dbPath: string;
  process: Deno.ChildProcess;
  /** `fetch` (the same as an in-process app's, so a test can take either). */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** {@linkcode postJson}. */
  postJson: typeof postJson;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<Deno.CommandStatus>;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<Deno.CommandStatus>;
}

/** Options for {@linkcode startServer}. */
export interface StartOptions {
  env?: Record<string, string>;
  /** SQLite file; a fresh temporary one when absent (ignored when env has DATABASE_URL). */
  dbPath?: string;
  /** Fixed port; a free one when absent. */
  port?: number;
  /** Milliseconds to wait for "listening". */
  timeoutMs?: number;
  /** A module to run before main.ts (`deno run --preload`), e.g. a fault injector. */
  preload?: string;
}

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

const tempDirs: string[] = [];
// Tests restart servers on the same database after stop(), so temporary directories live until
// the test process exits.
globalThis.addEventListener("unload", () => {
  for (const dir of tempDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  }
});

async function tempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-test-" });
  tempDirs.push(dir);
  return dir;
}

/** Starts `main.ts` and resolves once it listens. */
export async function startServer(
  options: StartOptions = {},
): Promise<TestServer> {
  const dbPath = options.dbPath ?? `${await tempDir()}/hookwatch.db`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(options.preload ? ["--preload", options.preload] : []),
      "main.ts",
    ],
    cwd: ROOT,
    env: {
      PORT: String(options.port ?? 0),
      HOST: "127.0.0.1",
      DATABASE_URL: `sqlite:${dbPath}`,
      NO_COLOR: "1",
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let text = "";
  let resolveUrl: (url: string) => void;
  const listening = new Promise<string>((resolve) => resolveUrl = resolve);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const match = /listening on (http:\/\/[^\s"]+)/.exec(text);
      if (match) resolveUrl(match[1]);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let status: Promise<Deno.CommandStatus> | null = null;
  const exited = () =>
    status ??= child.status.then(async (s) => (await pumps, s));

  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    listening,
    exited().then((s) => {
      throw new Error(
        `hookwatch exited with ${s.code} before listening:\n${text}`,
      );
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `hookwatch did not listen within ${timeoutMs} ms:\n${text}`,
            ),
          ),
        timeoutMs,
      );
    }),
  ]).catch(async (error) => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited();
    throw error;
  }).finally(() => clearTimeout(timer));

  const signal = async (sig: Deno.Signal) => {
    try {
      child.kill(sig);
    } catch { /* already gone */ }
    return await exited();
  };
  return {
    url,
    port: Number(new URL(url).port),
    dbPath,
    process: child,
    fetch: (input, init) => fetch(input, init),
    postJson,
    output: () => text,
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
  };
}

/** A valid ingest body. */
export function sampleEvent(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    source_app: "test-app",
    session_id: "session-1",
    hook_event_type: "PreToolUse",
    payload: { tool_name: "Bash", tool_input: { command: "ls" } },
    ...overrides,
  };
}

/** POSTs JSON and returns status and parsed body (null when empty). */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  // deno-lint-ignore no-explicit-any -- tests read arbitrary JSON answers
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? JSON.parse(text) : null,
    headers: res.headers,
  };
}
