import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ClaudeEvent,
  claudeEventOf,
} from "../telemetry/claude_telemetry.ts";
import { SESSION_RETENTION_MS, type SessionQuery } from "./sessions.ts";
import { Agents } from "../agents/agents.ts";
import { loadAgentConfig } from "../base/agent_config.ts";
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

import {
  close,
  hook,
  NOW,
  sessionsTest,
} from "../../tests/helpers/sessions_suite.ts";
import { decodeLogs, decodeMetrics } from "../telemetry/otlp.ts";
import { usageOf } from "../telemetry/claude_telemetry.ts";
import type { UsagePoint } from "./usage.ts";
import { logBodies, metricsBody } from "../../tests/fixtures/otlp/fixtures.ts";

/** The OTLP log fixtures as records. */
function fixtureEvents(encoding: "json" | "protobuf"): ClaudeEvent[] {
  return logBodies(encoding).flatMap((b) => decodeLogs(b, encoding)).map(
    (r) => {
      const e = claudeEventOf(r, NOW);
      if (!("key" in e)) throw new Error(e.reason);
      return e;
    },
  );
}

/** The n-th metrics export of a temporality, as usage points. */
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

sessionsTest(
  "cost and tokens equal the sum of the api_request events",
  async ({ tracker }) => {
    const changes = await tracker.recordRecords(fixtureEvents("json"), NOW);
    assert.equal(changes.fresh.length, 12);
    const s = (await tracker.summary(SESSION_ID))!;
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
  },
);

sessionsTest(
  "a retried log export is not counted again",
  async ({ tracker }) => {
    await tracker.recordRecords(fixtureEvents("json"), NOW);
    const again = await tracker.recordRecords(fixtureEvents("protobuf"), NOW);
    assert.equal(again.fresh.length, 0);
    assert.deepEqual(again.spend, []);
    const s = (await tracker.summary(SESSION_ID))!;
    close(s.cost_usd, totals().cost_usd);
    assert.equal(s.requests, 3);
  },
);

sessionsTest(
  "per-prompt cost and the prompt's hook events",
  async ({ tracker, tally }) => {
    await tally([
      hook(1, "UserPromptSubmit", NOW, { prompt_id: PROMPTS[0] }, 1),
      hook(2, "PreToolUse", NOW + 1, { prompt_id: PROMPTS[0] }),
    ]);
    await tracker.recordRecords(fixtureEvents("json"), NOW);
    const detail = (await tracker.detail(SESSION_ID))!;
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
  },
);

for (const temporality of ["delta", "cumulative"] as const) {
  for (const eventsFirst of [true, false]) {
    sessionsTest(
      `${temporality} metrics and events do not double count (${
        eventsFirst ? "events" : "metrics"
      } first)`,
      async ({ tracker }) => {
        const events = () => tracker.recordRecords(fixtureEvents("json"), NOW);
        if (eventsFirst) await events();
        const first = await tracker.recordUsage(
          fixturePoints(temporality, 1),
          NOW,
        );
        const second = await tracker.recordUsage(
          fixturePoints(temporality, 2),
          NOW,
        );
        // the same exports retried
        await tracker.recordUsage(fixturePoints(temporality, 1), NOW);
        await tracker.recordUsage(fixturePoints(temporality, 2), NOW);
        if (!eventsFirst) await events();
        const s = (await tracker.summary(SESSION_ID))!;
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
      },
    );
  }
}

sessionsTest(
  "metrics alone give the session its cost (logs exporter off)",
  async ({ tracker }) => {
    await tracker.recordUsage(fixturePoints("cumulative", 1), NOW);
    close((await tracker.summary(SESSION_ID))!.cost_usd, totals(0).cost_usd);
    await tracker.recordUsage(fixturePoints("cumulative", 2, "protobuf"), NOW);
    // a new series start (protobuf run) counts from zero again: a restarted exporter
    const s = (await tracker.summary(SESSION_ID))!;
    close(s.cost_usd, totals(0).cost_usd + totals().cost_usd);
    assert.equal(s.requests, 0);
  },
);

sessionsTest(
  "the aggregate is max(events, metrics) under any interleaving",
  async ({ tracker }) => {
    // Both signals report the same spend; however they interleave, the total never passes it.
    const amounts = fc.array(fc.integer({ min: 1, max: 1000 }), {
      minLength: 1,
      maxLength: 12,
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        amounts,
        fc.array(fc.boolean(), { maxLength: 30 }),
        async (costs, order) => {
          const session = `s${run++}`;
          let sentEvents = 0;
          let metricTotal = 0;
          let sentMetrics = 0;
          const sendEvent = async () => {
            const cost = costs[sentEvents++];
            await tracker.recordRecords([{
              name: "api_request",
              sessionId: session,
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
              key: `${session}:k${sentEvents}`,
            }], NOW);
          };
          const sendMetric = async () => {
            metricTotal += costs[sentMetrics++];
            await tracker.recordUsage([{
              sessionId: session,
              kind: "cost",
              model: SONNET,
              temporality: "cumulative",
              series: `${session}:series`,
              startTimeUnixNano: "1",
              timeUnixNano: String(1000 + sentMetrics),
              value: metricTotal,
            }], NOW);
          };
          for (const eventNext of order) {
            if (eventNext && sentEvents < costs.length) await sendEvent();
            else if (sentMetrics < costs.length) await sendMetric();
            const s = await tracker.summary(session);
            if (s) {
              const seenEvents = costs.slice(0, sentEvents).reduce(
                (a, b) => a + b,
                0,
              );
              assert.equal(s.cost_usd, Math.max(seenEvents, metricTotal));
            }
          }
          while (sentEvents < costs.length) await sendEvent();
          while (sentMetrics < costs.length) await sendMetric();
          const all = costs.reduce((a, b) => a + b, 0);
          const s = (await tracker.summary(session))!;
          assert.equal(s.cost_usd, all);
          assert.equal(s.tokens.input, all);
        },
      ),
      { numRuns: 40 },
    );
  },
);

sessionsTest(
  "hook events set source app and bucket counts; telemetry events count but name no app",
  async ({ tracker, tally }) => {
    await tally([
      hook(1, "SessionStart", NOW),
      hook(2, "UserPromptSubmit", NOW + 10, {}, 1),
      hook(3, "PreToolUse", NOW + 20),
    ]);
    let s = (await tracker.summary(SESSION_ID))!;
    assert.equal(s.source_app, "repo-a");
    assert.deepEqual(s.events, { priority: 1, regular: 2, otel: 0 });
    assert.equal(s.first_seen, NOW);
    assert.equal(s.last_seen, NOW + 20);
    assert.equal("state" in s, false, "the agent sessions own the state");
    await tally([{
      ...hook(4, "claude_code.api_request", NOW + 70),
      source_app: "claude-code",
    }]);
    s = (await tracker.summary(SESSION_ID))!;
    assert.equal(s.source_app, "repo-a");
    assert.equal(s.last_seen, NOW + 70);
  },
);

sessionsTest(
  "a session known only from telemetry has its events' app",
  async ({ tracker, tally }) => {
    await tally([{
      ...hook(1, "claude_code.api_request", NOW),
      source_app: "claude-code",
    }]);
    let s = (await tracker.summary(SESSION_ID))!;
    assert.equal(s.source_app, "claude-code");
    assert.equal(
      (await tracker.list({
        source_app: "claude-code",
        limit: 10,
        sort: "last_seen",
        order: "desc",
      })).length,
      1,
    );
    // The first hook event names the real app.
    await tally([hook(2, "Stop", NOW + 10, {}, 1)]);
    s = (await tracker.summary(SESSION_ID))!;
    assert.equal(s.source_app, "repo-a");
  },
);

sessionsTest(
  "list filters and sorts; aggregates survive a reopen",
  async ({ tracker, tally, reopen }) => {
    await tracker.recordRecords(fixtureEvents("json"), NOW);
    await tally([
      {
        ...hook(1, "Stop", NOW + 5),
        session_id: "cheap",
        source_app: "repo-b",
      },
    ]);
    const ids = async (query: Partial<SessionQuery>) =>
      (await tracker.list({
        limit: 10,
        sort: "last_seen",
        order: "desc",
        ...query,
      })).map((s) => s.session_id);
    assert.deepEqual(await ids({ sort: "cost_usd" }), [SESSION_ID, "cheap"]);
    assert.deepEqual(await ids({ sort: "cost_usd", order: "asc" }), [
      "cheap",
      SESSION_ID,
    ]);
    assert.deepEqual(await ids({ source_app: "repo-b" }), ["cheap"]);
    assert.deepEqual(await ids({ model: HAIKU }), [SESSION_ID]);
    assert.deepEqual(await ids({ session_ids: ["cheap", "nobody"] }), [
      "cheap",
    ]);
    assert.deepEqual(await ids({ since: NOW + 1 }), ["cheap"]);
    assert.equal((await ids({ limit: 1, sort: "tokens" })).length, 1);
    const { tracker: reopened } = await reopen();
    assert.deepEqual(
      await reopened.summary(SESSION_ID),
      await tracker.summary(SESSION_ID),
    );
    assert.deepEqual(
      await reopened.detail(SESSION_ID),
      await tracker.detail(SESSION_ID),
    );
    // and a retry after the restart is still recognised
    assert.equal(
      (await reopened.recordRecords(fixtureEvents("json"), NOW)).fresh.length,
      0,
    );
  },
);

sessionsTest(
  "hook events are tallied by the agent sessions' fold, once however many replicas fold them",
  async ({ tracker, store, reopen }) => {
    const config = loadAgentConfig({});
    const replicaA = new Agents(store, config, {
      sweep: false,
      tally: tracker,
    });
    const other = await reopen();
    const replicaB = new Agents(other.store, config, {
      sweep: false,
      tally: other.tracker,
    });
    await Promise.all([replicaA.ready, replicaB.ready]);
    const stored = await store.insertBatch([
      { ...hook(0, "UserPromptSubmit", NOW, {}, 1), priority: 1 },
      { ...hook(0, "PreToolUse", NOW + 1) },
      { ...hook(0, "PostToolUse", NOW + 2) },
    ]);
    const events = stored.map((r) => r.event);
    // Both replicas receive every committed event from the feed and fold it.
    replicaA.observe(events);
    replicaB.observe(events);
    await Promise.all([replicaA.flush(), replicaB.flush()]);
    const s = (await tracker.summary(SESSION_ID))!;
    assert.deepEqual(s.events, { priority: 1, regular: 2, otel: 0 });
    await replicaA.close();
    await replicaB.close();
  },
);

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

sessionsTest(
  "sessions unseen for 30 days leave with their prompts and usage",
  async ({ tracker, tally }) => {
    await tracker.recordRecords(fixtureEvents("json"), NOW);
    await tally([
      { ...hook(1, "Stop", NOW + SESSION_RETENTION_MS), session_id: "recent" },
    ]);
    assert.equal(await tracker.prune(NOW + SESSION_RETENTION_MS + 1), 1);
    assert.equal(await tracker.summary(SESSION_ID), null);
    assert.equal(await tracker.detail(SESSION_ID), null);
    assert.deepEqual(
      (await tracker.list({ limit: 10, sort: "last_seen", order: "desc" }))
        .map((s) => s.session_id),
      ["recent"],
    );
    // the same session id coming back starts from zero, not from leftovers
    await tracker.recordRecords(
      fixtureEvents("json").map((e) => ({
        ...e,
        time: NOW + SESSION_RETENTION_MS + 2,
        key: `again:${e.key}`,
      })),
      NOW + SESSION_RETENTION_MS + 2,
    );
    const detail = (await tracker.detail(SESSION_ID))!;
    close(detail.cost_usd, totals().cost_usd);
    assert.equal(detail.prompts.length, 2);
    close(
      detail.usage_by_model.reduce((n, m) => n + m.cost_usd, 0),
      totals().cost_usd,
    );
  },
);
