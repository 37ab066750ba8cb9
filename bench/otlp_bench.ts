/**
 * Cost of Claude Code telemetry on the server: decoding an OTLP logs export of 100
 * `api_request` records (protobuf and JSON), and folding them into session aggregates on a
 * real SQLite file.
 *
 * Run: `deno bench -A bench/otlp_bench.ts`
 *
 * @module
 */
import protobuf from "protobufjs";
import descriptor from "../lib/telemetry/otlp_proto.json" with { type: "json" };
import { decodeLogs } from "../lib/telemetry/otlp.ts";
import {
  type ClaudeEvent,
  claudeEventOf,
} from "../lib/telemetry/claude_telemetry.ts";
import { SessionTracker } from "../lib/sessions/sessions.ts";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { logBodies } from "../tests/fixtures/otlp/fixtures.ts";

// 100 records: the fixture's api_request record repeated with distinct sequence numbers.
function export100(encoding: "json" | "protobuf"): Uint8Array {
  const one = JSON.parse(new TextDecoder().decode(logBodies("json")[1]));
  const records = one.resourceLogs[0].scopeLogs[0].logRecords;
  const template = records[0];
  one.resourceLogs[0].scopeLogs[0].logRecords = Array.from(
    { length: 100 },
    (_, i) => ({
      ...template,
      attributes: template.attributes.map((a: { key: string }) =>
        a.key === "event.sequence" ? { key: a.key, value: { intValue: i } } : a
      ),
    }),
  );
  const json = new TextEncoder().encode(JSON.stringify(one));
  if (encoding === "json") return json;
  // The same export re-encoded as protobuf through the OTLP message type.
  return protobufOf(json);
}

function protobufOf(json: Uint8Array): Uint8Array {
  const type = protobuf.Root.fromJSON(descriptor as protobuf.INamespace)
    .lookupType(
      "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
    );
  return type.encode(
    type.fromObject(JSON.parse(new TextDecoder().decode(json))),
  ).finish();
}

const bodies = { json: export100("json"), protobuf: export100("protobuf") };
const dir = await Deno.makeTempDir({ prefix: "hookwatch-bench-otlp-" });
const store = SqliteStore.open(`${dir}/bench.db`);
const tracker = new SessionTracker(store.db, { prune: false });
let round = 0;

Deno.bench("decode 100 records, protobuf", { group: "decode" }, () => {
  decodeLogs(bodies.protobuf, "protobuf");
});
Deno.bench("decode 100 records, JSON", { group: "decode" }, () => {
  decodeLogs(bodies.json, "json");
});
Deno.bench("aggregate 100 api_request events", async () => {
  const now = Date.now();
  const r = round++;
  const events = decodeLogs(bodies.protobuf, "protobuf").map((rec) => {
    const e = claudeEventOf(rec, now) as ClaudeEvent;
    return { ...e, key: `${e.key}:${r}` };
  });
  await tracker.recordRecords(events, now);
});

globalThis.addEventListener("unload", () => {
  store.connection.close();
  Deno.removeSync(dir, { recursive: true });
});
