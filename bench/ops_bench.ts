/**
 * Times the operations commands on a database of N events (`deno run -A bench/ops_bench.ts
 * [events] [rounds]`, default 100000 and 5): `deno task backup`, `deno task restore`, one
 * archiving sweep (in-process) and `deno task archive:import` of its files, twice. Prints
 * medians of `rounds` runs of each command, with sizes.
 *
 * @module
 */
import { ROOT } from "./lib.ts";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { Archiver } from "../lib/store/archive.ts";
import { archiveSource } from "../lib/store/archive_sql.ts";

const events = Number(Deno.args[0] ?? 100_000);
const rounds = Number(Deno.args[1] ?? 5);
const HOUR = 3_600_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function run(args: string[], dbPath: string): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { DATABASE_URL: `sqlite:${dbPath}`, NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return performance.now() - start;
}

const dir = await Deno.makeTempDir({ prefix: "hookwatch-ops-bench-" });
try {
  const db = `${dir}/hookwatch.db`;
  const store = SqliteStore.open(db);
  const base = Math.floor((Date.now() - 48 * HOUR) / HOUR) * HOUR;
  for (let i = 0; i < events; i += 1000) {
    await store.insertBatch(
      Array.from({ length: Math.min(1000, events - i) }, (_, j) => {
        const n = i + j;
        return {
          source_app: `repo-${n % 7}`,
          session_id: `session-${Math.floor(n / 500)}`,
          hook_event_type: n % 4 === 0 ? "Stop" : "PreToolUse",
          payload: {
            tool_name: "Bash",
            tool_input: {
              command: `ls -la /workspace/project-${n % 50}/src`,
              description: "List files",
            },
            cwd: "/workspace/project",
            transcript_path: `/home/dev/.claude/projects/p/${n % 100}.jsonl`,
          },
          // Spread over 10 expired hours.
          timestamp: base + Math.floor((n / events) * 10 * HOUR),
          received_at: base,
          priority: n % 4 === 0 ? 1 : 0,
          event_id: `bench-${n}`,
        };
      }),
    );
  }
  await store.close();
  const dbBytes = (await Deno.stat(db)).size;

  const backupMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await Deno.remove(`${dir}/backup.db`).catch(() => {});
    backupMs.push(await run(["task", "-q", "backup", `${dir}/backup.db`], db));
  }
  const restoreMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const target = `${dir}/restored-${r}.db`;
    restoreMs.push(
      await run(["task", "-q", "restore", `${dir}/backup.db`], target),
    );
  }

  const archiveMs: number[] = [];
  let files: string[] = [];
  let archiveBytes = 0;
  for (let r = 0; r < rounds; r++) {
    const copy = `${dir}/archive-${r}.db`;
    await Deno.copyFile(`${dir}/backup.db`, copy);
    const archiveDir = `${dir}/archive-${r}`;
    await Deno.mkdir(archiveDir);
    const s = SqliteStore.open(copy);
    const start = performance.now();
    await new Archiver(archiveSource(s.db), archiveDir).deleteExpired(
      Date.now(),
      Date.now(),
      1000,
    );
    archiveMs.push(performance.now() - start);
    await s.close();
    files = [...Deno.readDirSync(archiveDir)].map((e) =>
      `${archiveDir}/${e.name}`
    );
    archiveBytes = files.reduce((sum, f) => sum + Deno.statSync(f).size, 0);
  }

  const importMs: number[] = [];
  const reimportMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const target = `${dir}/imported-${r}.db`;
    importMs.push(
      await run(["task", "-q", "archive:import", ...files], target),
    );
    reimportMs.push(
      await run(["task", "-q", "archive:import", ...files], target),
    );
  }

  const startMs: number[] = [];
  for (let r = 0; r < rounds; r++) startMs.push(await run(["eval", "0"], db));

  console.log(JSON.stringify(
    {
      events,
      rounds,
      database_mb: +(dbBytes / 1e6).toFixed(1),
      backup_ms_median: Math.round(median(backupMs)),
      restore_ms_median: Math.round(median(restoreMs)),
      archive_sweep_ms_median: Math.round(median(archiveMs)),
      archive_files: files.length,
      archive_mb: +(archiveBytes / 1e6).toFixed(1),
      import_ms_median: Math.round(median(importMs)),
      reimport_ms_median: Math.round(median(reimportMs)),
      deno_start_ms_median: Math.round(median(startMs)),
    },
    null,
    2,
  ));
} finally {
  await Deno.remove(dir, { recursive: true });
}
