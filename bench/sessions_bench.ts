/**
 * Cost of keeping session aggregates after each commit: the tally the agent sessions' fold
 * writes (`tallyTx`) for a group-commit batch of 100 hook events over 4 sessions, on a real
 * SQLite file (WAL), next to the events insert it follows.
 *
 * Run: `deno bench -A bench/sessions_bench.ts`
 *
 * @module
 */
import { SessionTracker } from "../lib/sessions/sessions.ts";
import { tallyTx } from "../lib/sessions/tally.ts";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import type { StoredEvent } from "../common/events.ts";

const dir = await Deno.makeTempDir({ prefix: "hookwatch-bench-sessions-" });
const store = SqliteStore.open(`${dir}/bench.db`);
await new SessionTracker(store.db, { prune: false }).ready;
const TYPES = ["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop"];

let id = 0;
function batch(): StoredEvent[] {
  const now = Date.now();
  return Array.from({ length: 100 }, (_, i) => ({
    id: ++id,
    source_app: "bench",
    session_id: `session-${i % 4}`,
    hook_event_type: TYPES[i % TYPES.length],
    payload: { prompt_id: `prompt-${i % 4}`, tool_name: "Bash" },
    timestamp: now + i,
    received_at: now,
    priority: i % 4 >= 2 ? 1 : 0,
  }));
}

Deno.bench("events insert, 100 events (baseline)", {
  group: "commit",
  baseline: true,
}, async () => {
  await store.insertBatch(batch());
});

Deno.bench("session aggregates, 100 events", { group: "commit" }, async () => {
  const events = batch();
  await store.db.write(() => tallyTx(events));
});

globalThis.addEventListener("unload", () => {
  store.connection.close();
  Deno.removeSync(dir, { recursive: true });
});
