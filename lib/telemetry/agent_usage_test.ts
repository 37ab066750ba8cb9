import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import descriptor from "./otlp_proto.json" with { type: "json" };
import {
  decodeLogs,
  decodeMetrics,
  decodeResponse,
  decodeTraces,
  encodeResponse,
} from "./otlp.ts";
import { otherAgentsMetric, readerOfLog, readSpan } from "./agent_usage.ts";
import type { UsageRecord } from "../sessions/usage.ts";

const FIXTURES = fileURLToPath(
  new URL("../../tests/fixtures/agents/", import.meta.url),
);

/** A recorded export body (OTLP JSON: ids in hex, as the agents' exporters write it). */
function body(path: string): Uint8Array {
  const recorded = JSON.parse(Deno.readTextFileSync(`${FIXTURES}${path}`));
  return new TextEncoder().encode(JSON.stringify(recorded.body));
}

function logRecords(path: string): UsageRecord[] {
  return decodeLogs(body(path), "json").flatMap((record) => {
    const reading = readerOfLog(record)?.log(record, 0) ?? null;
    return reading && !("reason" in reading) ? [reading] : [];
  });
}

const sum = (records: UsageRecord[], kind: keyof UsageRecord["tokens"]) =>
  records.reduce((n, r) => n + r.tokens[kind], 0);

Deno.test("agent usage - Codex: one request per response.completed, input without the cached part, joined by conversation.id", () => {
  const records = logRecords("codex/otlp_logs.json");
  assert.equal(records.length, 2);
  assert.ok(records.every((r) => r.name === "api_request"));
  assert.ok(
    records.every((r) =>
      r.sessionId === "01a2513f-6d89-7153-9c7e-75b017ef8492" &&
      r.model === "gpt-5-hookwatch" && r.costUsd === 0
    ),
  );
  assert.equal(sum(records, "input"), 10105 - 5052 + 10213 - 5106);
  assert.equal(sum(records, "cacheRead"), 5052 + 5106);
  assert.equal(sum(records, "output"), 40 + 51);
  assert.equal(records[0].time, Date.parse("2026-12-07T16:04:01.190Z"));
  assert.notEqual(records[0].key, records[1].key);
});

Deno.test("agent usage - Gemini CLI: every api_response (the router's too), thoughts counted as output, by session.id", () => {
  const records = logRecords("gemini/otlp_logs.json");
  assert.equal(records.length, 3);
  assert.deepEqual(records.map((r) => r.model), [
    "gemini-3.5-flash-lite",
    "gemini-3.8-flash",
    "gemini-3.8-flash",
  ]);
  assert.ok(
    records.every((r) =>
      r.sessionId === "49e84881-3596-44f5-87f9-af8c992090fa"
    ),
  );
  assert.equal(sum(records, "input"), 878 - 439 + 11591 - 5795 + 11715 - 5857);
  assert.equal(sum(records, "cacheRead"), 439 + 5795 + 5857);
  assert.equal(sum(records, "output"), 33 + 42 + 46);
});

Deno.test("agent usage - Copilot CLI: the chat spans' tokens by gen_ai.conversation.id; its other spans and the agents' metrics are not read", () => {
  const spans = decodeTraces(body("copilot/otlp_traces.json"), "json");
  assert.deepEqual(spans.map((s) => s.name), [
    "execute_tool bash bash",
    "chat gpt-5-hookwatch",
    "chat gpt-5-hookwatch",
    "invoke_agent",
  ]);
  const records = spans.map((s) => readSpan(s, 0)).filter((r) =>
    r !== null && !("reason" in r)
  ) as UsageRecord[];
  assert.equal(records.length, 2);
  assert.ok(
    records.every((r) =>
      r.sessionId === "54644711-a6e6-4347-9492-6e0851a3a766"
    ),
  );
  assert.equal(sum(records, "input"), 13204 - 6602 + 13296 - 6648);
  assert.equal(sum(records, "cacheRead"), 6602 + 6648);
  assert.equal(sum(records, "output"), 47 + 33);
  assert.equal(records[0].costUsd, 0, "github.copilot.cost is not dollars");
  for (
    const path of [
      "copilot/otlp_metrics.json",
      "codex/otlp_metrics.json",
      "gemini/otlp_metrics.json",
    ]
  ) {
    const { points } = decodeMetrics(body(path), "json");
    assert.ok(points.length > 0, path);
    assert.ok(points.every(otherAgentsMetric), path);
  }
});

Deno.test("agent usage - a protobuf trace export decodes as its JSON twin; the trace answer in either encoding", () => {
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  const type = root.lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
  );
  const recorded = JSON.parse(
    Deno.readTextFileSync(`${FIXTURES}copilot/otlp_traces.json`),
  ).body;
  // Hex ids are no protobuf JSON; the twin is built without them.
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : typeof v === "object" && v !== null
      ? Object.fromEntries(
        Object.entries(v).filter(([k]) =>
          !/^(traceId|spanId|parentSpanId)$/.test(k)
        )
          .map(([k, x]) => [k, strip(x)]),
      )
      : v;
  const proto = type.encode(type.fromObject(strip(recorded) as object))
    .finish();
  assert.deepEqual(
    decodeTraces(proto, "protobuf"),
    decodeTraces(body("copilot/otlp_traces.json"), "json"),
  );
  const partial = { rejected: 2, errorMessage: "two spans" };
  assert.deepEqual(
    JSON.parse(
      new TextDecoder().decode(encodeResponse("traces", "json", partial)),
    ),
    { partialSuccess: { rejectedSpans: "2", errorMessage: "two spans" } },
  );
  assert.deepEqual(
    decodeResponse("traces", encodeResponse("traces", "protobuf", partial)),
    { partialSuccess: { rejectedSpans: "2", errorMessage: "two spans" } },
  );
});
