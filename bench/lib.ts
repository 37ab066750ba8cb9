/**
 * Shared parts of the benchmarks: statistics, the report file, tables, starting a real
 * hookwatch process, driving `wrk`, and realistic event bodies from the hook fixtures.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { cpus, totalmem } from "node:os";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** Where `deno task bench` writes its figures (gitignored). */
export const REPORT_PATH = `${ROOT}performance-report.json`;

/** Median and spread of repeated runs. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max − min) ÷ median: how noisy the runs were. */
  spread: number;
  runs: number[];
}

/** The `p`-th percentile (0–100) of already sorted numbers, nearest rank. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The median of numbers in any order; NaN when there are none. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The `q`-quantile (0–1) of numbers in any order: the value at index ⌊q·n⌋; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
}

/** `x` with `digits` decimals, as a number (for JSON output). */
export function fixed(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

/** Median, extremes and spread of repeated runs. */
export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
  const min = sorted[0], max = sorted.at(-1)!;
  return {
    median: round(median),
    min: round(min),
    max: round(max),
    spread: median === 0 ? 0 : round((max - min) / Math.abs(median)),
    runs: runs.map(round),
  };
}

/** Rounds to 4 significant digits for the report. */
export function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(4));
}

/** What the figures were measured on. */
export async function machineInfo(): Promise<Record<string, unknown>> {
  const git = async (...args: string[]) => {
    try {
      const out = await new Deno.Command("git", { args, cwd: ROOT }).output();
      return new TextDecoder().decode(out.stdout).trim();
    } catch {
      return "";
    }
  };
  let load = "";
  try {
    load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3)
      .join(" ");
  } catch { /* not Linux */ }
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_mb: Math.round(totalmem() / 2 ** 20),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    commit: await git("rev-parse", "HEAD"),
    dirty: (await git("status", "--porcelain", "--untracked-files=no")) !== "",
    load_average: load,
  };
}

/** Reads the report, or a fresh one. */
export async function readReport(
  path = REPORT_PATH,
): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return {};
  }
}

/** Writes one benchmark's part of the report, keeping the other parts. */
export async function writeReportPart(
  name: string,
  part: unknown,
  path = REPORT_PATH,
): Promise<void> {
  const report = await readReport(path);
  report.machine = await machineInfo();
  report.updated_at = new Date().toISOString();
  const parts = (report.parts ?? {}) as Record<string, unknown>;
  parts[name] = part;
  report.parts = parts;
  await Deno.writeTextFile(path, JSON.stringify(report, null, 2) + "\n");
}

/** Prints a plain text table. */
export function printTable(
  title: string,
  headers: string[],
  rows: (string | number)[][],
): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) =>
    Math.max(...cells.map((r) => (r[i] ?? "").length))
  );
  const line = (r: string[]) =>
    r.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))
      .join("  ");
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** Formats a number for a table. */
export function fmt(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return String(x);
  return x >= 1000 ? Math.round(x).toLocaleString("en-US") : x.toFixed(digits);
}

/** Parses `--name value` / `--name=value` / `--flag` arguments. */
export function parseArgs(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    if (eq > 0) out.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
      out.set(arg.slice(2), args[++i]);
    } else out.set(arg.slice(2), "true");
  }
  return out;
}

/** A running server process (hookwatch or a reference). */
export interface ServerProcess {
  url: string;
  pid: number;
  /** Everything it printed. */
  output(): string;
  /** Resident set size now, bytes (from /proc). */
  rss(): number;
  stop(): Promise<void>;
}

/** Resident set size of a process, bytes. */
export function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

/** CPU time (user + system) a process has used so far, seconds. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, ticks of 10 ms
}

/**
 * Spawns a server and resolves once a line of its output matches `listening` (whose first
 * group is the URL).
 */
export async function spawnServer(
  command: string,
  args: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    listening: RegExp;
    timeoutMs?: number;
    toUrl?: (match: RegExpExecArray) => string;
  },
): Promise<ServerProcess> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let found: (url: string) => void;
  const listening = new Promise<string>((resolve) => found = resolve);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      if (text.length < 1_000_000) {
        text += decoder.decode(chunk, { stream: true });
      }
      const match = options.listening.exec(text);
      if (match) found(options.toUrl ? options.toUrl(match) : match[1]);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => (await pumps, s));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    listening,
    status.then((s) => {
      throw new Error(
        `server exited with ${s.code} before listening:\n${text}`,
      );
    }),
    new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`server did not listen in time:\n${text}`)),
        options.timeoutMs ?? 30_000,
      )
    ),
  ]).catch(async (error) => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await status;
    throw error;
  }).finally(() => clearTimeout(timer));
  return {
    url,
    pid: child.pid,
    output: () => text,
    rss: () => rssOf(child.pid),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const timeout = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await status;
      clearTimeout(timeout);
    },
  };
}

/** Starts `bench/reference_server.ts`: a bare `Deno.serve` JSON echo, the same-run reference. */
export async function startReference(): Promise<ServerProcess> {
  return await spawnServer(
    Deno.execPath(),
    ["run", "--allow-net", `${ROOT}bench/reference_server.ts`],
    { listening: /reference listening on (http:\/\/\S+)/ },
  );
}

/** Options for {@linkcode startHookwatch}. */
export interface HookwatchOptions {
  env?: Record<string, string>;
  /** SQLite file; a fresh temporary one when absent. */
  dbPath?: string;
  /** Extra `deno run` flags (e.g. `--preload`, `--cpu-prof`). */
  denoFlags?: string[];
}

/** Starts `main.ts` on a free loopback port with a (fresh) SQLite file. */
export async function startHookwatch(
  options: HookwatchOptions = {},
): Promise<ServerProcess & { dbPath: string }> {
  let dir: string | null = null;
  let dbPath = options.dbPath;
  if (!dbPath) {
    dir = await Deno.makeTempDir({ prefix: "hookwatch-bench-" });
    dbPath = `${dir}/hookwatch.db`;
  }
  const server = await spawnServer(
    Deno.execPath(),
    ["run", "-A", ...(options.denoFlags ?? []), "main.ts"],
    {
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        DATABASE_URL: `sqlite:${dbPath}`,
        ...options.env,
      },
      listening: /listening on (http:\/\/[^\s"]+)/,
    },
  );
  return {
    ...server,
    dbPath,
    async stop() {
      await server.stop();
      if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

const FIXTURE_TYPES = [
  "PreToolUse",
  "PostToolUse",
  "Notification",
  "PermissionRequest",
  "PostToolUseFailure",
  "PreCompact",
  "SessionEnd",
  "SessionStart",
  "Stop",
  "SubagentStart",
  "SubagentStop",
  "UserPromptSubmit",
];

/** How often each type occurs in a busy session: tool calls dominate. */
const MIX: Record<string, number> = {
  PreToolUse: 40,
  PostToolUse: 38,
  UserPromptSubmit: 3,
  Notification: 3,
  PermissionRequest: 2,
  PostToolUseFailure: 2,
  Stop: 3,
  SubagentStart: 2,
  SubagentStop: 2,
  SessionStart: 2,
  SessionEnd: 2,
  PreCompact: 1,
};

/** The hook payloads from `tests/fixtures/hooks`, by type. */
export function hookPayloads(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const type of FIXTURE_TYPES) {
    out[type] = JSON.parse(
      Deno.readTextFileSync(`${ROOT}tests/fixtures/hooks/${type}.json`),
    );
  }
  return out;
}

/**
 * `n` ingest bodies in a realistic mix (about 15 % priority), from the hook fixtures, spread
 * over a few apps and sessions; `timestamp` is left to the server unless `timestamp` is given.
 */
export function sampleEvents(
  n: number,
  timestamp?: number,
): Record<string, unknown>[] {
  const payloads = hookPayloads();
  const wheel: string[] = [];
  for (const [type, weight] of Object.entries(MIX)) {
    for (let i = 0; i < weight; i++) wheel.push(type);
  }
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const type = wheel[(i * 37) % wheel.length];
    const event: Record<string, unknown> = {
      source_app: `app-${i % 4}`,
      session_id: `session-${i % 16}`,
      hook_event_type: type,
      payload: payloads[type],
      model_name: "claude-sonnet-4-5",
    };
    if (timestamp !== undefined) event.timestamp = timestamp;
    out.push(event);
  }
  return out;
}

/** One `wrk` run's figures. */
export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

/**
 * Runs `wrk` against `url`, POSTing the given bodies in turn (one per request).
 * Non-2xx answers and socket errors are counted in `errors`.
 */
export async function runWrk(options: {
  url: string;
  path: string;
  bodies: string[];
  contentType?: string;
  connections: number;
  seconds: number;
  threads?: number;
}): Promise<WrkResult> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-wrk-" });
  try {
    const lua = `${dir}/post.lua`;
    const list = options.bodies.map((b) => `[==[${b}]==]`).join(",\n");
    await Deno.writeTextFile(
      lua,
      `local bodies = {${list}}
local headers = { ["Content-Type"] = "${
        options.contentType ?? "application/json"
      }", ["Host"] = "${new URL(options.url).host}" }
local requests = {}
for i, body in ipairs(bodies) do
  requests[i] = wrk.format("POST", "${options.path}", headers, body)
end
local n = 0
request = function()
  n = n % #requests + 1
  return requests[n]
end
`,
    );
    const threads = options.threads ?? Math.min(2, options.connections);
    const out = await new Deno.Command("wrk", {
      args: [
        "-t",
        String(threads),
        "-c",
        String(options.connections),
        "-d",
        `${Math.max(1, Math.round(options.seconds))}s`,
        "--latency",
        "-s",
        lua,
        options.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`wrk failed:\n${text}`);
    return parseWrk(text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `hey` against `url` for `seconds`, POSTing `body` on every request. Answers other than
 * 2xx and socket errors are counted in `errors`.
 */
export async function runHey(options: {
  url: string;
  body: string;
  connections: number;
  seconds: number;
}): Promise<WrkResult> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-hey-" });
  try {
    await Deno.writeTextFile(`${dir}/body.json`, options.body);
    const out = await new Deno.Command("hey", {
      args: [
        "-z",
        `${Math.max(1, Math.round(options.seconds))}s`,
        "-c",
        String(options.connections),
        "-m",
        "POST",
        "-T",
        "application/json",
        "-D",
        `${dir}/body.json`,
        options.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`hey failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    let ok = 0, all = 0;
    for (const m of text.matchAll(/\[(\d+)\]\s+(\d+) responses/g)) {
      all += Number(m[2]);
      if (m[1].startsWith("2")) ok += Number(m[2]);
    }
    const failed = /Error distribution:\n((?:\s+\[\d+\].*\n?)*)/.exec(text)?.[1]
      .matchAll(/\[(\d+)\]/g) ?? [];
    let socketErrors = 0;
    for (const m of failed) socketErrors += Number(m[1]);
    return {
      requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
      requests: all,
      errors: all - ok + socketErrors,
      p50Ms: num(/50%+ in ([\d.]+) secs/) * 1000,
      p99Ms: num(/99%+ in ([\d.]+) secs/) * 1000,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads the figures out of `wrk --latency` output. */
export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const total = /(\d+) requests in/.exec(text);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(
      text,
    );
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket =
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(text);
  const socketErrors = socket
    ? socket.slice(1).reduce((n, s) => n + Number(s), 0)
    : 0;
  if (!rps || !total) throw new Error(`cannot read wrk output:\n${text}`);
  return {
    requestsPerSec: Number(rps[1]),
    p50Ms: pct("50"),
    p99Ms: pct("99"),
    requests: Number(total[1]),
    errors: (non2xx ? Number(non2xx[1]) : 0) + socketErrors,
  };
}

/** Sum of a Prometheus series (all label sets) from exposition text. */
export function promValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

/** Runs a script of this folder as its own process and returns its parsed JSON stdout. */
export async function runBenchProcess(
  script: string,
  args: string[],
): Promise<void> {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}bench/${script}`, ...args],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) throw new Error(`${script} failed (${status.code})`);
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
