import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import { decodeLogs, decodeMetrics } from "../telemetry/otlp.ts";
import {
  type ClaudeEvent,
  claudeEventOf,
  usageOf,
} from "../telemetry/claude_telemetry.ts";
import type { UsagePoint } from "./usage.ts";
import {
  OBSERVE_DELAY_MS,
  SESSION_RETENTION_MS,
  SessionTracker,
} from "./sessions.ts";
import type { StoredEvent } from "../../common/events.ts";
import { logBodies, metricsBody } from "../../tests/fixtures/otlp/fixtures.ts";
import {
  ACTIVE_TIME_S,
  HAIKU,
  LINES_ADDED,
  LINES_REMOVED,
  PROMPTS,
  SESSION_ID,
  SONNET,
  totals,
} from "../../tests/fixtures/otlp/scenario.ts";

const NOW = 1_795_800_000_000;

async function withTracker(
  run: (tracker: SessionTracker, path: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-sessions-" });
  const path = `${dir}/test.db`;
  const db = new DatabaseSync(path);
  try {
    await run(new SessionTracker(db), path);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function fixtureEvents(encoding: "json" | "protobuf"): ClaudeEvent[] {
  return logBodies(encoding).flatMap((b) => decodeLogs(b, encoding)).map(
    (r) => {
      const e = claudeEventOf(r, NOW);
      if (!("key" in e)) throw new Error(e.reason);
      return e;
    },
  );
}

function fixturePoints(
  temporality: "delta" | "cumulative",
  n: 1 | 2,
  encoding: "json" | "protobuf" = "json",
): UsagePoint[] {
  const points: UsagePoint[] = [];
  for (
    const p of decodeMetrics(metricsBody(temporality, n, encoding), encoding)
      .points
  ) {
    const u = usageOf(p);
    if (u && "series" in u) points.push(u);
  }
  return points;
}

function close(actual: number, expected: number): void {
  assert.ok(
    Math.abs(actual - expected) < 1e-9,
    `${actual} is not ${expected}`,
  );
}

function hook(
  id: number,
  type: string,
  timestamp: number,
  payload: Record<string, unknown> = {},
  priority: 0 | 1 = 0,
): StoredEvent {
  return {
    id,
    source_app: "repo-a",
    session_id: SESSION_ID,
    hook_event_type: type,
    payload,
    timestamp,
    received_at: timestamp,
    priority,
  };
}

Deno.test("sessions - cost and tokens equal the sum of the api_request events", async () => {
  await withTracker((tracker) => {
    const changes = tracker.recordUsageRecords(fixtureEvents("json"), NOW);
    assert.equal(changes.fresh.length, 12);
    const s = tracker.summary(SESSION_ID)!;
    const t = totals();
    close(s.cost_usd, t.cost_usd);
    assert.deepEqual(s.tokens, {
      input: t.input,
      output: t.output,
      cache_read: t.cache_read,
      cache_creation: t.cache_creation,
    });
    assert.equal(s.requests, 3);
    assert.equal(s.errors, 1);
    assert.equal(s.events.otel, 12);
    assert.deepEqual(s.models, [HAIKU, SONNET].sort());
    const spend = changes.spend.filter((d) => d.kind === "cost")
      .reduce((n, d) => n + d.amount, 0);
    close(spend, t.cost_usd);
  });
});

Deno.test("sessions - a retried log export is not counted again", async () => {
  await withTracker((tracker) => {
    tracker.recordUsageRecords(fixtureEvents("json"), NOW);
    const again = tracker.recordUsageRecords(fixtureEvents("protobuf"), NOW);
    assert.equal(again.fresh.length, 0);
    assert.deepEqual(again.spend, []);
    close(tracker.summary(SESSION_ID)!.cost_usd, totals().cost_usd);
    assert.equal(tracker.summary(SESSION_ID)!.requests, 3);
  });
});

Deno.test("sessions - per-prompt cost and the prompt's hook events", async () => {
  await withTracker((tracker) => {
    tracker.recordHookEvents([
      hook(1, "UserPromptSubmit", NOW, { prompt_id: PROMPTS[0] }, 1),
      hook(2, "PreToolUse", NOW + 1, { prompt_id: PROMPTS[0] }),
    ]);
    tracker.recordUsageRecords(fixtureEvents("json"), NOW);
    const detail = tracker.detail(SESSION_ID)!;
    assert.deepEqual(detail.prompts.map((p) => p.prompt_id), [...PROMPTS]);
    for (const [i, p] of detail.prompts.entries()) {
      const t = totals(i as 0 | 1);
      close(p.cost_usd, t.cost_usd);
      assert.equal(p.requests, t.requests);
      assert.equal(p.tokens.input, t.input);
    }
    assert.equal(detail.prompts[0].hook_events, 2);
    assert.equal(detail.prompts[0].prompt_length, 42);
    assert.equal(detail.prompts[1].errors, 1);
    const sonnet = detail.usage_by_model.find((m) => m.model === SONNET)!;
    close(sonnet.cost_usd, 0.0123 + 0.0207);
  });
});

for (const temporality of ["delta", "cumulative"] as const) {
  Deno.test(`sessions - ${temporality} metrics and events do not double count, in either order`, async () => {
    for (const eventsFirst of [true, false]) {
      await withTracker((tracker) => {
        const events = () =>
          tracker.recordUsageRecords(fixtureEvents("json"), NOW);
        if (eventsFirst) events();
        const first = tracker.recordUsage(fixturePoints(temporality, 1), NOW);
        const second = tracker.recordUsage(fixturePoints(temporality, 2), NOW);
        // the same exports retried
        tracker.recordUsage(fixturePoints(temporality, 1), NOW);
        tracker.recordUsage(fixturePoints(temporality, 2), NOW);
        if (!eventsFirst) events();
        const s = tracker.summary(SESSION_ID)!;
        const t = totals();
        close(s.cost_usd, t.cost_usd);
        assert.equal(s.tokens.input, t.input);
        assert.equal(s.tokens.cache_read, t.cache_read);
        assert.equal(s.lines_of_code.added, LINES_ADDED);
        assert.equal(s.lines_of_code.removed, LINES_REMOVED);
        close(s.active_time_s, ACTIVE_TIME_S);
        if (!eventsFirst) {
          const metricSpend = [...first.spend, ...second.spend]
            .filter((d) => d.kind === "cost").reduce((n, d) => n + d.amount, 0);
          close(metricSpend, t.cost_usd);
        }
      });
    }
  });
}

Deno.test("sessions - metrics alone give the session its cost (logs exporter off)", async () => {
  await withTracker((tracker) => {
    tracker.recordUsage(fixturePoints("cumulative", 1), NOW);
    close(tracker.summary(SESSION_ID)!.cost_usd, totals(0).cost_usd);
    tracker.recordUsage(fixturePoints("cumulative", 2, "protobuf"), NOW);
    // a new series start (protobuf run) counts from zero again: a restarted exporter
    close(
      tracker.summary(SESSION_ID)!.cost_usd,
      totals(0).cost_usd + totals().cost_usd,
    );
    assert.equal(tracker.summary(SESSION_ID)!.requests, 0);
  });
});

Deno.test("sessions - the aggregate is max(events, metrics) under any interleaving", async () => {
  // Both signals report the same spend; however they interleave, the total never passes it.
  const amounts = fc.array(fc.integer({ min: 1, max: 1000 }), {
    minLength: 1,
    maxLength: 12,
  });
  await fc.assert(
    fc.asyncProperty(
      amounts,
      fc.array(fc.boolean(), { maxLength: 30 }),
      async (costs, order) => {
        await withTracker((tracker) => {
          let sentEvents = 0;
          let metricTotal = 0;
          let sentMetrics = 0;
          let seq = 0;
          const sendEvent = () => {
            const cost = costs[sentEvents++];
            tracker.recordUsageRecords([{
              name: "api_request",
              sessionId: "s",
              promptId: null,
              time: NOW,
              model: SONNET,
              costUsd: cost,
              tokens: {
                input: cost,
                output: 0,
                cacheRead: 0,
                cacheCreation: 0,
              },
              attributes: {},
              key: `k${seq++}`,
            }], NOW);
          };
          const sendMetric = () => {
            metricTotal += costs[sentMetrics++];
            tracker.recordUsage([{
              sessionId: "s",
              kind: "cost",
              model: SONNET,
              temporality: "cumulative",
              series: "series",
              startTimeUnixNano: "1",
              timeUnixNano: String(1000 + sentMetrics),
              value: metricTotal,
            }], NOW);
          };
          for (const eventNext of order) {
            if (eventNext && sentEvents < costs.length) sendEvent();
            else if (sentMetrics < costs.length) sendMetric();
            const s = tracker.summary("s");
            if (s) {
              const seenEvents = costs.slice(0, sentEvents).reduce(
                (a, b) => a + b,
                0,
              );
              assert.equal(s.cost_usd, Math.max(seenEvents, metricTotal));
            }
          }
          while (sentEvents < costs.length) sendEvent();
          while (sentMetrics < costs.length) sendMetric();
          const all = costs.reduce((a, b) => a + b, 0);
          assert.equal(tracker.summary("s")!.cost_usd, all);
          assert.equal(tracker.summary("s")!.tokens.input, all);
        });
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("sessions - hook events set source app and bucket counts; telemetry events count but name no app", async () => {
  await withTracker((tracker) => {
    tracker.recordHookEvents([
      hook(1, "SessionStart", NOW),
      hook(2, "UserPromptSubmit", NOW + 10, {}, 1),
      hook(3, "PreToolUse", NOW + 20),
    ]);
    let s = tracker.summary(SESSION_ID)!;
    assert.equal(s.source_app, "repo-a");
    assert.deepEqual(s.events, { priority: 1, regular: 2, otel: 0 });
    assert.equal(s.first_seen, NOW);
    assert.equal(s.last_seen, NOW + 20);
    assert.equal("state" in s, false, "the agent sessions own the state");
    tracker.recordHookEvents([{
      ...hook(4, "claude_code.api_request", NOW + 70),
      source_app: "claude-code",
    }]);
    s = tracker.summary(SESSION_ID)!;
    assert.equal(s.source_app, "repo-a");
    assert.equal(s.last_seen, NOW + 70);
  });
});

Deno.test("sessions - a session known only from telemetry has its events' app", async () => {
  await withTracker((tracker) => {
    tracker.recordHookEvents([{
      ...hook(1, "claude_code.api_request", NOW),
      source_app: "claude-code",
    }]);
    let s = tracker.summary(SESSION_ID)!;
    assert.equal(s.source_app, "claude-code");
    assert.equal(
      tracker.list({
        source_app: "claude-code",
        limit: 10,
        sort: "last_seen",
        order: "desc",
      }).length,
      1,
    );
    // The first hook event names the real app.
    tracker.recordHookEvents([hook(2, "Stop", NOW + 10, {}, 1)]);
    s = tracker.summary(SESSION_ID)!;
    assert.equal(s.source_app, "repo-a");
  });
});

Deno.test("sessions - list filters and sorts; aggregates survive a reopen", async () => {
  await withTracker((tracker, path) => {
    tracker.recordUsageRecords(fixtureEvents("json"), NOW);
    tracker.recordHookEvents([
      {
        ...hook(1, "Stop", NOW + 5),
        session_id: "cheap",
        source_app: "repo-b",
      },
    ]);
    const byCost = tracker.list({ limit: 10, sort: "cost_usd", order: "desc" });
    assert.deepEqual(byCost.map((s) => s.session_id), [SESSION_ID, "cheap"]);
    const asc = tracker.list({ limit: 10, sort: "cost_usd", order: "asc" });
    assert.deepEqual(asc.map((s) => s.session_id), ["cheap", SESSION_ID]);
    assert.deepEqual(
      tracker.list({
        limit: 10,
        sort: "last_seen",
        order: "desc",
        source_app: "repo-b",
      })
        .map((s) => s.session_id),
      ["cheap"],
    );
    assert.deepEqual(
      tracker.list({
        limit: 10,
        sort: "last_seen",
        order: "desc",
        model: HAIKU,
      })
        .map((s) => s.session_id),
      [SESSION_ID],
    );
    assert.deepEqual(
      tracker.list({
        limit: 10,
        sort: "last_seen",
        order: "desc",
        session_ids: ["cheap", "nobody"],
      })
        .map((s) => s.session_id),
      ["cheap"],
    );
    assert.equal(
      tracker.list({ limit: 1, sort: "tokens", order: "desc" }).length,
      1,
    );
    const db = new DatabaseSync(path);
    try {
      const reopened = new SessionTracker(db);
      assert.deepEqual(
        reopened.summary(SESSION_ID),
        tracker.summary(SESSION_ID),
      );
      // and a retry after the restart is still recognised
      assert.equal(
        reopened.recordUsageRecords(fixtureEvents("json"), NOW).fresh.length,
        0,
      );
    } finally {
      db.close();
    }
  });
});

Deno.test("sessions - telemetry records that cannot be attributed are rejected with a reason", () => {
  const base = {
    timeUnixNano: "0",
    eventName: null,
    body: "claude_code.api_request",
    severityText: null,
    resource: {},
    scope: null,
  };
  const noSession = claudeEventOf({
    ...base,
    attributes: { "event.name": "api_request" },
  }, NOW);
  assert.deepEqual(noSession, { reason: "api_request has no session.id" });
  const badCost = claudeEventOf({
    ...base,
    attributes: {
      "event.name": "api_request",
      "session.id": "s",
      cost_usd: "lots",
    },
  }, NOW);
  assert.match(
    (badCost as { reason: string }).reason,
    /cost_usd must be a non-negative number/,
  );
  const other = claudeEventOf({ ...base, body: "GET /", attributes: {} }, NOW);
  assert.match((other as { reason: string }).reason, /not a claude_code event/);
  const ok = claudeEventOf({
    ...base,
    attributes: {
      "event.name": "api_request",
      "session.id": "s",
      "event.timestamp": "2026-11-26T12:00:00.000Z",
      cost_usd: 0.5,
      input_tokens: "10",
    },
  }, NOW) as ClaudeEvent;
  assert.equal(ok.time, Date.parse("2026-11-26T12:00:00.000Z"));
  assert.equal(ok.costUsd, 0.5);
  assert.equal(ok.tokens.input, 10);
});

Deno.test("sessions - observed commits are folded in within the delay, at a read, or at close", async () => {
  await withTracker(async (tracker, path) => {
    tracker.observe([hook(1, "UserPromptSubmit", NOW, {}, 1)]);
    // a read sees it at once
    assert.equal(tracker.summary(SESSION_ID)?.events.priority, 1);
    tracker.observe([hook(2, "PreToolUse", NOW + 1)]);
    await new Promise((resolve) => setTimeout(resolve, OBSERVE_DELAY_MS + 50));
    const db = new DatabaseSync(path);
    try {
      const other = new SessionTracker(db);
      // written by the timer, visible to another connection without a read on this one
      assert.equal(other.summary(SESSION_ID)?.events.regular, 1);
      tracker.observe([hook(3, "Stop", NOW + 2, {}, 1)]);
      tracker.close();
      assert.equal(other.summary(SESSION_ID)?.events.priority, 2);
    } finally {
      db.close();
    }
  });
});

Deno.test("sessions - sessions unseen for 30 days leave with their prompts and usage", async () => {
  await withTracker((tracker) => {
    tracker.recordUsageRecords(fixtureEvents("json"), NOW);
    tracker.recordHookEvents([
      { ...hook(1, "Stop", NOW + SESSION_RETENTION_MS), session_id: "recent" },
    ]);
    assert.equal(tracker.prune(NOW + SESSION_RETENTION_MS + 1), 1);
    assert.equal(tracker.summary(SESSION_ID), null);
    assert.equal(tracker.detail(SESSION_ID), null);
    assert.deepEqual(
      tracker.list({ limit: 10, sort: "last_seen", order: "desc" })
        .map((s) => s.session_id),
      ["recent"],
    );
    // the same session id coming back starts from zero, not from leftovers
    tracker.recordUsageRecords(
      fixtureEvents("json").map((e) => ({
        ...e,
        time: NOW + SESSION_RETENTION_MS + 2,
        key: `again:${e.key}`,
      })),
      NOW + SESSION_RETENTION_MS + 2,
    );
    const detail = tracker.detail(SESSION_ID)!;
    close(detail.cost_usd, totals().cost_usd);
    assert.equal(detail.prompts.length, 2);
    close(
      detail.usage_by_model.reduce((n, m) => n + m.cost_usd, 0),
      totals().cost_usd,
    );
  });
});
