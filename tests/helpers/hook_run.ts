/**
 * Runs an installed hook command the way an agent runs one (`sh -c` the command, in a process
 * group of its own, the hook's JSON on stdin) and waits for what the detached sender delivers,
 * for the installed-hook tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TestServer } from "./server.ts";

/** What one run of a hook did. */
export interface HookRun {
  code: number;
  stdout: string;
  ms: number;
}

/**
 * Runs the installed command once. `termIn`: send SIGTERM to the hook's process group, the way
 * Claude Code cancels a hook, once the hook has begun writing this inbox (before it has read
 * its input).
 */
export async function runHook(
  command: string,
  input: Record<string, unknown>,
  env: Record<string, string>,
  { termIn }: { termIn?: string } = {},
): Promise<HookRun> {
  const started = performance.now();
  // In its own process group, as Claude Code runs hooks, so the whole group can be signalled.
  const child = new Deno.Command("setsid", {
    args: ["sh", "-c", command],
    env: {
      HOOKWATCH_URL: "",
      HOOKWATCH_SOURCE_APP: "",
      HOOKWATCH_TOKEN: "",
      ...env,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (termIn) {
    await waitFor("the hook to start writing", async () => {
      const files = await Array.fromAsync(Deno.readDir(termIn)).catch(() => []);
      return files.length > 0 ? true : undefined;
    });
    Deno.kill(-child.pid, "SIGTERM");
  }
  await writer.write(new TextEncoder().encode(JSON.stringify(input)));
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    ms: performance.now() - started,
  };
}

/** The events stored for one app (read with `token` when the server wants one). */
export async function stored(
  server: TestServer,
  app: string,
  token?: string,
  // deno-lint-ignore no-explicit-any
): Promise<any[]> {
  const res = await fetch(
    `${server.url}/events/recent?source_app=${
      encodeURIComponent(app)
    }&limit=1000`,
    { headers: token ? { authorization: `Bearer ${token}` } : {} },
  );
  assert.equal(res.status, 200);
  return await res.json();
}

/** Polls `probe` until it gives a value (or fails after `timeoutMs`). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Resolves once no detached sender holds a run directory and the inbox is empty. */
export async function idle(spool: string): Promise<void> {
  await waitFor("the senders to finish", async () => {
    const names = await Array.fromAsync(Deno.readDir(spool), (e) => e.name)
      .catch(() => []);
    const inbox = await Array.fromAsync(Deno.readDir(`${spool}/inbox`))
      .catch(() => []);
    return names.some((n) => n.startsWith("run-")) || inbox.length > 0
      ? undefined
      : true;
  });
}

/** The lines of the spool's files. */
export async function spoolLines(spool: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const entry of Deno.readDir(spool)) {
    if (!entry.name.endsWith(".ndjson")) continue;
    const text = await Deno.readTextFile(`${spool}/${entry.name}`);
    lines.push(...text.split("\n").filter((line) => line.trim() !== ""));
  }
  return lines;
}

/** A TCP server that accepts connections and never answers (hookwatch hanging). */
export function hangingServer(): { url: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch { /* closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* gone */ }
      }
      listener.close();
    },
  };
}

/** A loopback address nothing listens on (hookwatch down). */
export function deadUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

/** Every file below `dir` (none when it is gone). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) out.push(...await filesUnder(path));
      else if (e.isFile) out.push(path);
    }
  } catch { /* gone */ }
  return out;
}
