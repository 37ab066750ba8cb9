import assert from "node:assert/strict";
import fc from "fast-check";
import protobuf from "protobufjs";
import descriptor from "./otlp_proto.json" with { type: "json" };
import {
  decodeLogs,
  decodeMetrics,
  decodeResponse,
  decodeStatus,
  encodeResponse,
  encodeStatus,
  encodingOf,
  OtlpDecodeError,
} from "./otlp.ts";
import { logBodies, metricsBody } from "../../tests/fixtures/otlp/fixtures.ts";

Deno.test("otlp - SDK log exports decode alike from JSON and protobuf", () => {
  const json = logBodies("json").flatMap((b) => decodeLogs(b, "json"));
  const proto = logBodies("protobuf").flatMap((b) => decodeLogs(b, "protobuf"));
  assert.equal(json.length, 12);
  assert.deepEqual(proto, json);
  const request = json.find((r) =>
    r.attributes["event.name"] === "api_request"
  );
  assert.ok(request);
  assert.equal(request.body, "claude_code.api_request");
  assert.equal(request.attributes.cost_usd, "0.0123");
  assert.equal(request.attributes["event.sequence"], 1);
  assert.equal(request.resource["service.name"], "claude-code");
  assert.equal(request.scope, "com.anthropic.claude_code.events");
  assert.match(request.timeUnixNano, /^\d{19}$/);
});

Deno.test("otlp - SDK metric exports decode with their temporality", () => {
  for (const temporality of ["delta", "cumulative"] as const) {
    const json = decodeMetrics(metricsBody(temporality, 2, "json"), "json");
    const proto = decodeMetrics(
      metricsBody(temporality, 2, "protobuf"),
      "protobuf",
    );
    const shape = (p: typeof json.points) =>
      p.map((d) => [d.metric, d.temporality, d.value, d.attributes]);
    assert.deepEqual(shape(proto.points), shape(json.points));
    const cost = json.points.filter((p) =>
      p.metric === "claude_code.cost.usage"
    );
    assert.equal(cost.length, temporality === "delta" ? 1 : 2);
    assert.ok(cost.every((p) => p.temporality === temporality && p.monotonic));
  }
});

Deno.test("otlp - malformed bodies are decode errors", () => {
  const bad: [Uint8Array, "json" | "protobuf"][] = [
    [new TextEncoder().encode("{not json"), "json"],
    [new TextEncoder().encode("[1,2]"), "json"],
    [new TextEncoder().encode('{"resourceLogs":"x"}'), "json"],
    [new TextEncoder().encode('{"resourceLogs":[{"scopeLogs":7}]}'), "json"],
    // field 1 (resource_logs), length 100, but only 2 bytes follow
    [new Uint8Array([0x0a, 100, 1, 2]), "protobuf"],
    [new Uint8Array([0xff, 0xff, 0xff]), "protobuf"],
  ];
  for (const [body, encoding] of bad) {
    assert.throws(() => decodeLogs(body, encoding), OtlpDecodeError);
  }
  assert.throws(
    () => decodeMetrics(new Uint8Array([0x0a, 50]), "protobuf"),
    OtlpDecodeError,
  );
});

Deno.test("otlp - an empty protobuf body is an empty request", () => {
  assert.deepEqual(decodeLogs(new Uint8Array(), "protobuf"), []);
});

Deno.test("otlp - content types and encodings", () => {
  assert.equal(encodingOf("application/json; charset=utf-8"), "json");
  assert.equal(encodingOf("application/x-protobuf"), "protobuf");
  assert.equal(encodingOf("text/plain"), null);
  assert.equal(encodingOf(undefined), null);
});

Deno.test("otlp - responses follow the OTLP/HTTP spec", () => {
  assert.equal(encodeResponse("logs", "protobuf", null).byteLength, 0);
  assert.equal(
    new TextDecoder().decode(encodeResponse("metrics", "json", null)),
    "{}",
  );
  const partial = { rejected: 2, errorMessage: "2 records had no session.id" };
  assert.deepEqual(
    decodeResponse("logs", encodeResponse("logs", "protobuf", partial)),
    {
      partialSuccess: {
        rejectedLogRecords: "2",
        errorMessage: "2 records had no session.id",
      },
    },
  );
  assert.deepEqual(
    JSON.parse(
      new TextDecoder().decode(encodeResponse("metrics", "json", partial)),
    ),
    {
      partialSuccess: {
        rejectedDataPoints: "2",
        errorMessage: "2 records had no session.id",
      },
    },
  );
  assert.deepEqual(decodeStatus(encodeStatus("protobuf", 3, "bad")), {
    code: 3,
    message: "bad",
  });
});

Deno.test("otlp - any attributes decode the same from a JSON body and its protobuf twin", () => {
  const type = protobuf.Root.fromJSON(descriptor as protobuf.INamespace)
    .lookupType(
      "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
    );
  const value = fc.oneof(
    fc.string().map((s) => ({ stringValue: s })),
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.maxSafeInteger().map((n) => ({ intValue: String(n) })),
    // -0 has no JSON spelling, so it has no JSON twin
    fc.double({ noNaN: true, noDefaultInfinity: true })
      .filter((d) => !Object.is(d, -0))
      .map((d) => ({ doubleValue: d })),
  );
  const record = fc.record({
    timeUnixNano: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
    body: value,
    attributes: fc.uniqueArray(
      fc.record({ key: fc.string({ minLength: 1 }), value }),
      { selector: (a) => a.key, maxLength: 8 },
    ),
  });
  fc.assert(
    fc.property(fc.array(record, { maxLength: 5 }), (logRecords) => {
      const request = { resourceLogs: [{ scopeLogs: [{ logRecords }] }] };
      const json = new TextEncoder().encode(JSON.stringify(request));
      const proto = type.encode(type.fromObject(request)).finish();
      const fromJson = decodeLogs(json, "json");
      assert.deepEqual(decodeLogs(proto, "protobuf"), fromJson);
      assert.equal(fromJson.length, logRecords.length);
      for (const [i, r] of logRecords.entries()) {
        assert.equal(fromJson[i].timeUnixNano, r.timeUnixNano);
      }
    }),
    { numRuns: 100 },
  );
});
