/**
 * A throwaway PostgreSQL for tests: Debian's `postgresql` binaries, `initdb` into a temporary
 * directory, `pg_ctl start` on a free loopback port with its unix socket in that directory and
 * `fsync=off`. One cluster per test file (started on first use, stopped when the file's module
 * unloads); a fresh database per test.
 *
 * As root, `initdb` refuses to run, so the cluster runs as the `postgres` user (`runuser`).
 * When the binaries are missing, tests using {@linkcode postgresIgnored} are skipped — unless
 * `HOOKWATCH_REQUIRE_POSTGRES=1`, when {@linkcode sharedCluster} fails instead.
 *
 * @module
 */
import postgres from "postgres";

const BIN_DIRS = [
  Deno.env.get("HOOKWATCH_PG_BIN") ?? "",
  "/usr/lib/postgresql/17/bin",
  "/usr/lib/postgresql/16/bin",
  "/usr/lib/postgresql/15/bin",
].filter((d) => d !== "");

function findBin(): string | null {
  for (const dir of BIN_DIRS) {
    try {
      if (Deno.statSync(`${dir}/pg_ctl`).isFile) return dir;
    } catch { /* not here */ }
  }
  return null;
}

/** Directory of `initdb`/`pg_ctl`, or null when PostgreSQL is not installed. */
export const PG_BIN: string | null = findBin();

/** True when PostgreSQL tests must fail rather than skip without PostgreSQL. */
export const POSTGRES_REQUIRED = Deno.env.get("HOOKWATCH_REQUIRE_POSTGRES") ===
  "1";

/** `ignore` value for PostgreSQL tests: skip only when absent and not required. */
export function postgresIgnored(): boolean {
  return PG_BIN === null && !POSTGRES_REQUIRED;
}

/** A running throwaway cluster. */
export interface PgCluster {
  port: number;
  /** Temporary directory holding the data directory, socket and log. */
  dir: string;
  /** Connection URL of `database` (as the `postgres` superuser, trust auth on loopback). */
  url(database?: string): string;
  /** Creates a fresh, uniquely named database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown), keeping the data: {@linkcode PgCluster.start} brings it back. */
  pause(): Promise<void>;
  /**
   * Stops the server as a crash would (`-m immediate`: no checkpoint, WAL not yet written is
   * lost); {@linkcode PgCluster.start} recovers it.
   */
  crash(): Promise<void>;
  /** Starts the server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and removes the directory. */
  destroy(): Promise<void>;
  /** The server log so far. */
  log(): string;
}

const asRoot = Deno.uid() === 0;

function postgresIds(): { uid: number; gid: number } {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.startsWith("postgres:")
  );
  if (!line) {
    throw new Error(
      "running as root needs the postgres user to run the cluster",
    );
  }
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

async function run(
  program: string,
  args: string[],
): Promise<{ ok: boolean; text: string }> {
  const command = asRoot
    ? new Deno.Command("runuser", {
      args: ["-u", "postgres", "--", program, ...args],
      stdin: "null",
    })
    : new Deno.Command(program, { args, stdin: "null" });
  const out = await command.output();
  const decoder = new TextDecoder();
  return {
    ok: out.success,
    text: decoder.decode(out.stdout) + decoder.decode(out.stderr),
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Options for {@linkcode startCluster}. */
export interface ClusterOptions {
  /** Server settings (`-c name=value`); tests default to `fsync=off`, benchmarks pass `on`. */
  settings?: Record<string, string>;
}

/**
 * Initialises and starts a new cluster.
 *
 * @throws when PostgreSQL is not installed or does not start.
 */
export async function startCluster(
  options: ClusterOptions = {},
): Promise<PgCluster> {
  const settings = Object.entries({
    fsync: "off",
    full_page_writes: "off",
    max_connections: "200",
    ...options.settings,
  }).map(([name, value]) => `-c ${name}=${value}`).join(" ");
  if (PG_BIN === null) {
    throw new Error(
      `PostgreSQL is required (HOOKWATCH_REQUIRE_POSTGRES=1) but pg_ctl was not found in ${
        BIN_DIRS.join(", ")
      }; install Debian's postgresql package`,
    );
  }
  const bin = PG_BIN;
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-pg-" });
  if (asRoot) {
    const { uid, gid } = postgresIds();
    await Deno.chown(dir, uid, gid);
  }
  const data = `${dir}/data`;
  const logFile = `${dir}/server.log`;
  const init = await run(`${bin}/initdb`, [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "--encoding=UTF8",
    "--locale=C",
  ]);
  if (!init.ok) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`initdb failed:\n${init.text}`);
  }
  let port = 0;
  const start = async () => {
    const result = await run(`${bin}/pg_ctl`, [
      "-D",
      data,
      "-l",
      logFile,
      "-w",
      "-t",
      "30",
      "-o",
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} ${settings}`,
      "start",
    ]);
    return result;
  };
  let last = "";
  for (let attempt = 0; attempt < 4; attempt++) {
    port = freePort();
    const result = await start();
    if (result.ok) {
      last = "";
      break;
    }
    last = result.text + readLog(logFile);
  }
  if (last !== "") {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`pg_ctl start failed:\n${last}`);
  }
  await watchdog(bin, dir);
  const stop = async () => {
    await run(`${bin}/pg_ctl`, ["-D", data, "-m", "fast", "-w", "stop"]);
  };
  let counter = 0;
  const url = (database = "postgres") =>
    `postgres://postgres@127.0.0.1:${port}/${database}`;
  const cluster: PgCluster = {
    port,
    dir,
    url,
    async createDatabase() {
      const name = `hw_${Date.now().toString(36)}_${++counter}`;
      const admin = postgres(url(), { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    pause: stop,
    async crash() {
      await run(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]);
    },
    async start() {
      const result = await start();
      if (!result.ok) {
        throw new Error(
          `pg_ctl start failed:\n${result.text}${readLog(logFile)}`,
        );
      }
    },
    async destroy() {
      await run(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    log: () => readLog(logFile),
  };
  return cluster;
}

/**
 * Stops the cluster and removes its directory once this process is gone, even when it was
 * killed (no unload handler ran): a detached shell polls for the process every 2 s.
 */
async function watchdog(bin: string, dir: string): Promise<void> {
  const stop = `${
    asRoot ? "runuser -u postgres -- " : ""
  }'${bin}/pg_ctl' -D '${dir}/data' -m immediate stop`;
  const script =
    `(while kill -0 ${Deno.pid} 2>/dev/null; do sleep 2; done; ${stop}; rm -rf '${dir}') >/dev/null 2>&1 &`;
  await new Deno.Command("setsid", {
    args: ["sh", "-c", script],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
}

function readLog(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

let shared: Promise<PgCluster> | null = null;

/**
 * The test file's cluster, started on first call and stopped (synchronously, `immediate`)
 * when the module unloads, so a failing or filtered test run never leaves a server behind.
 */
export function sharedCluster(): Promise<PgCluster> {
  if (shared) return shared;
  shared = startCluster();
  shared.then((cluster) => {
    globalThis.addEventListener("unload", () => {
      const args = ["-D", `${cluster.dir}/data`, "-m", "immediate", "stop"];
      new Deno.Command(asRoot ? "runuser" : `${PG_BIN}/pg_ctl`, {
        args: asRoot
          ? ["-u", "postgres", "--", `${PG_BIN}/pg_ctl`, ...args]
          : args,
        stdout: "null",
        stderr: "null",
      }).outputSync();
      Deno.removeSync(cluster.dir, { recursive: true });
    });
  }, () => {});
  return shared;
}
