/**
 * Per-event cost of agent sessions at ingest: pairing tool calls, moving session states and
 * running the pattern checks, for group-commit batches of 100 realistic hook events over 8
 * sessions (prompts, PreToolUse/PostToolUse pairs, permission requests, failures, Bash
 * commands checked against the dangerous rules), next to the events insert they follow.
 *
 * - `fold (pure)`: `foldSession` alone, in memory (CPU of pairing, states, patterns).
 * - `fold + store`: `Agents.flush()`, the whole transaction (load, fold, write) on a real
 *   SQLite file (WAL) and, with `--pg`, on a throwaway PostgreSQL.
 *
 * Medians of `--rounds` (default 30) rounds of `--batches` (default 20) batches each.
 *
 * Run: `deno run -A bench/agents_bench.ts [--rounds 30] [--batches 20] [--pg]`
 *
 * @module
 */
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { PostgresStore } from "../lib/store/postgres_store.ts";
import type { EventStore } from "../lib/store/store.ts";
import type { ClassifiedEvent, StoredEvent } from "../common/events.ts";
import { loadAgentConfig } from "../lib/base/agent_config.ts";
import { Agents } from "../lib/agents/agents.ts";
import { foldSession, newWork } from "../lib/agents/fold.ts";
import { fmt, parseArgs, summarize } from "./lib.ts";
import { startCluster } from "../tests/helpers/postgres.ts";

const args = parseArgs(Deno.args);
const ROUNDS = Number(args.get("rounds") ?? 30);
const BATCHES = Number(args.get("batches") ?? 20);
const BATCH = 100;
const config = loadAgentConfig({});

let call = 0;
/** One batch: per session a prompt, then tool calls (some waiting on permission, some failing). */
function batch(): ClassifiedEvent[] {
  const now = Date.now();
  const out: ClassifiedEvent[] = [];
  let i = 0;
  while (out.length < BATCH) {
    const session_id = `session-${i % 8}`;
    const id = `toolu_${++call}`;
    const command = i % 7 === 0
      ? "rm -rf node_modules"
      : `npm test -- ${call % 13}`;
    const input = { command, description: "run the tests" };
    const base = {
      source_app: "bench",
      session_id,
      received_at: now,
      agent_id: i % 5 === 0 ? "sub-1" : null,
    };
    const ev = (
      type: string,
      payload: Record<string, unknown>,
      dt: number,
      priority: 0 | 1 = 0,
    ): ClassifiedEvent => ({
      ...base,
      hook_event_type: type,
      payload: { hook_event_name: type, session_id, ...payload },
      timestamp: now + out.length + dt,
      priority,
    });
    if (i % 10 === 0) {
      out.push(ev("UserPromptSubmit", { prompt: "go on" }, 0, 1));
    }
    out.push(
      ev("PreToolUse", {
        tool_name: "Bash",
        tool_input: input,
        tool_use_id: id,
      }, 0),
    );
    if (i % 4 === 0) {
      out.push(
        ev("PermissionRequest", { tool_name: "Bash", tool_input: input }, 1, 1),
      );
    }
    const failed = i % 6 === 0;
    out.push(ev(
      failed ? "PostToolUseFailure" : "PostToolUse",
      {
        tool_name: "Bash",
        tool_input: input,
        tool_use_id: id,
        duration_ms: 40,
        ...(failed ? { error: "exit 1" } : { tool_response: { stdout: "ok" } }),
      },
      2,
      failed ? 1 : 0,
    ));
    i++;
  }
  return out.slice(0, BATCH);
}

async function measure(
  name: string,
  store: EventStore,
): Promise<Record<string, number>> {
  const agents = new Agents(store, config, { sweep: false });
  await agents.ready;
  const insert: number[] = [];
  const fold: number[] = [];
  const pure: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    let tInsert = 0, tFold = 0, tPure = 0;
    for (let b = 0; b < BATCHES; b++) {
      const events = batch();
      let start = performance.now();
      const stored = (await store.insertBatch(events)).map((x) => x.event);
      tInsert += performance.now() - start;
      start = performance.now();
      const bySession = new Map<string, StoredEvent[]>();
      for (const e of stored) {
        bySession.set(e.session_id, [...bySession.get(e.session_id) ?? [], e]);
      }
      for (const list of bySession.values()) {
        foldSession(newWork(null, [], []), list, config);
      }
      tPure += performance.now() - start;
      start = performance.now();
      agents.observe(stored);
      await agents.flush();
      tFold += performance.now() - start;
    }
    if (r < 2) continue; // warm-up
    const per = (ms: number) => (ms * 1000) / (BATCHES * BATCH);
    insert.push(per(tInsert));
    fold.push(per(tFold));
    pure.push(per(tPure));
  }
  await agents.close();
  const i = summarize(insert), f = summarize(fold), p = summarize(pure);
  console.log(
    `${name}: events insert ${fmt(i.median)} µs/event (spread ${
      fmt(i.spread, 2)
    }), ` +
      `fold + store ${fmt(f.median)} µs/event (spread ${fmt(f.spread, 2)}, ` +
      `${fmt(f.median / i.median, 2)}× the insert), fold (pure) ${
        fmt(p.median, 2)
      } µs/event`,
  );
  return { insert: i.median, fold: f.median, pure: p.median };
}

const dir = await Deno.makeTempDir({ prefix: "hookwatch-bench-agents-" });
try {
  const sqlite = SqliteStore.open(`${dir}/bench.db`);
  await measure("sqlite", sqlite);
  await sqlite.close();
  if (args.has("pg")) {
    const cluster = await startCluster();
    try {
      const pg = await PostgresStore.connect(await cluster.createDatabase(), {
        poolSize: 4,
      });
      await measure("postgres", pg);
      await pg.close();
    } finally {
      await cluster.destroy();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
