/**
 * The server classifies at ingest (the stored `priority`), the dashboard's worker again on
 * every event it receives: with the same function and the same list, in-process.
 */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { loadConfig } from "../lib/base/config.ts";
import { createHookwatch } from "../lib/hookwatch.ts";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { HOOK_TYPES } from "../common/hook_types.ts";
import { DashboardState } from "../common/dashboard_state.ts";
import type { StoredEvent } from "../common/events.ts";

const TYPES = [...Object.keys(HOOK_TYPES), "SomethingNew", "claude_code.x"];

for (
  const [name, env] of [
    ["default types", {}],
    ["PRIORITY_EVENT_TYPES set", {
      PRIORITY_EVENT_TYPES: "PreToolUse,SomethingNew",
    }],
  ] as const
) {
  Deno.test(`classify - the worker's state puts every hook type where the server stored it (${name})`, async () => {
    const config = loadConfig(env);
    const hw = createHookwatch(config, SqliteStore.open(":memory:"), {
      sweep: false,
    });
    try {
      const app = createApp(hw);
      const res = await app.request("/events/batch", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(TYPES.map((hook_event_type) => ({
          source_app: "app",
          session_id: "s",
          hook_event_type,
          payload: {},
        }))),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const stored: StoredEvent[] = await (await app.request(
        `/events/recent?limit=${TYPES.length}`,
      )).json();
      assert.equal(stored.length, TYPES.length);
      // What routes/dashboard.tsx hands the worker in its InitMessage.
      const worker = new DashboardState({
        priorityTypes: config.priorityEventTypes,
      });
      for (const e of stored) {
        assert.equal(
          worker.classify(e.hook_event_type),
          e.priority,
          e.hook_event_type,
        );
      }
      assert.ok(stored.some((e) => e.priority === 1));
      assert.ok(stored.some((e) => e.priority === 0));
    } finally {
      await hw.close();
    }
  });
}
