/**
 * End to end: Claude Code's own telemetry posted over OTLP/HTTP to hookwatch, joined with hook
 * events per session. In-process (`app.request`) where no socket is needed; a real process for
 * the metrics pipeline and the OpenTelemetry SDK's own exporters.
 */
import assert from "node:assert/strict";
import {
  LoggerProvider,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import { OTLPLogExporter as JsonLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtoLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { sampleEvent, startServer } from "./helpers/server.ts";
import { startApp, type TestApp } from "./helpers/app.ts";
import { openSse } from "./helpers/sse.ts";
import { logBodies, metricsBody } from "./fixtures/otlp/fixtures.ts";
import { PROMPTS, SESSION_ID, totals } from "./fixtures/otlp/scenario.ts";
import { decodeResponse, decodeStatus } from "../lib/telemetry/otlp.ts";

const TOKEN = "otlp-test-token-123";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = "application/json";
const PROTO_TYPE = "application/x-protobuf";

async function gzip(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return await new Response(
    new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new CompressionStream("gzip"),
    ),
  ).bytes();
}

/** A hookwatch to talk to: a real process or the in-process app. */
interface Target {
  url: string;
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

async function post(
  server: Target,
  signal: "logs" | "metrics",
  body: Uint8Array | string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Uint8Array; headers: Headers }> {
  const res = await server.fetch(`${server.url}/v1/${signal}`, {
    method: "POST",
    headers: { "content-type": contentType, ...AUTH, ...headers },
    body: body as BodyInit,
  });
  return {
    status: res.status,
    body: new Uint8Array(await res.arrayBuffer()),
    headers: res.headers,
  };
}

// deno-lint-ignore no-explicit-any -- JSON answers
async function getJson(server: Target, path: string): Promise<any> {
  const res = await server.fetch(`${server.url}${path}`, { headers: AUTH });
  assert.equal(res.status, 200, `${path} answered ${res.status}`);
  return await res.json();
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) < 1e-9,
    `${what}: ${actual} ≠ ${expected}`,
  );
}

// The recorded fixtures carry their recording time: keep their events from the retention
// sweeper however long ago that was.
const FIXTURE_RETENTION = {
  RETENTION_PRIORITY: "87600h",
  RETENTION_REGULAR: "87600h",
};

/** A real hookwatch process: for the metrics pipeline and the SDK's own exporters. */
async function withServer(
  run: (server: Target) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const server = await startServer({ env: { HOOKWATCH_TOKEN: TOKEN, ...env } });
  try {
    await run({ url: server.url, fetch: (input, init) => fetch(input, init) });
  } finally {
    await server.stop();
    await Deno.remove(server.dbPath.replace(/\/[^/]+$/, ""), {
      recursive: true,
    })
      .catch(() => {});
  }
}

/** The app in-process: for what needs no socket. */
async function withApp(
  run: (server: TestApp) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const server = await startApp({ HOOKWATCH_TOKEN: TOKEN, ...env });
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

Deno.test("otlp ingest - a protobuf export and its JSON twin give the same aggregates, the sums of the api_request events", async () => {
  const results: unknown[] = [];
  await Promise.all(
    (["json", "protobuf"] as const).map((encoding) =>
      withApp(async (server) => {
        const type = encoding === "json" ? JSON_TYPE : PROTO_TYPE;
        for (const body of logBodies(encoding)) {
          // protobuf goes gzip-compressed, as Claude Code's exporter may send it
          const res = encoding === "json"
            ? await post(server, "logs", body, type)
            : await post(server, "logs", await gzip(body), type, {
              "content-encoding": "gzip",
            });
          assert.equal(res.status, 200);
          assert.equal(res.headers.get("content-type"), type);
          if (encoding === "json") {
            assert.deepEqual(
              JSON.parse(new TextDecoder().decode(res.body)),
              {},
            );
          } else {
            assert.equal(res.body.byteLength, 0);
          }
        }
        for (const n of [1, 2] as const) {
          const res = await post(
            server,
            "metrics",
            metricsBody("cumulative", n, encoding),
            type,
          );
          assert.equal(res.status, 200);
        }
        // every export retried: nothing may count twice
        for (const body of logBodies(encoding)) {
          assert.equal((await post(server, "logs", body, type)).status, 200);
        }
        assert.equal(
          (await post(
            server,
            "metrics",
            metricsBody("cumulative", 2, encoding),
            type,
          )).status,
          200,
        );
        const detail = await getJson(server, `/sessions/${SESSION_ID}`);
        const t = totals();
        close(detail.cost_usd, t.cost_usd, `${encoding} cost`);
        assert.deepEqual(detail.tokens, {
          input: t.input,
          output: t.output,
          cache_read: t.cache_read,
          cache_creation: t.cache_creation,
        });
        assert.equal(detail.requests, 3);
        assert.equal(detail.errors, 1);
        for (const [i, prompt] of detail.prompts.entries()) {
          assert.equal(prompt.prompt_id, PROMPTS[i]);
          close(prompt.cost_usd, totals(i as 0 | 1).cost_usd, `prompt ${i}`);
        }
        const timeline = await getJson(
          server,
          `/events/recent?session_id=${SESSION_ID}`,
        );
        assert.deepEqual(
          timeline.map((e: { hook_event_type: string }) => e.hook_event_type)
            .sort(),
          [
            "claude_code.api_error",
            "claude_code.api_request",
            "claude_code.api_request",
            "claude_code.api_request",
          ],
        );
        results.push(
          JSON.parse(
            JSON.stringify(
              detail,
              (k, v) => k === "first_seen" || k === "last_seen" ? undefined : v,
            ),
          ),
        );
      }, FIXTURE_RETENTION)
    ),
  );
  assert.deepEqual(results[0], results[1]);
});

Deno.test("otlp ingest - delta metrics and events for the same session do not double count", async () => {
  await withServer(async (server) => {
    for (const n of [1, 2] as const) {
      await post(
        server,
        "metrics",
        metricsBody("delta", n, "protobuf"),
        PROTO_TYPE,
      );
    }
    let s = await getJson(server, `/sessions/${SESSION_ID}`);
    close(s.cost_usd, totals().cost_usd, "metrics only");
    assert.equal(s.requests, 0);
    for (const body of logBodies("json")) {
      await post(server, "logs", body, JSON_TYPE);
    }
    // a retried delta export (the same bytes again)
    await post(
      server,
      "metrics",
      metricsBody("delta", 2, "protobuf"),
      PROTO_TYPE,
    );
    s = await getJson(server, `/sessions/${SESSION_ID}`);
    close(s.cost_usd, totals().cost_usd, "metrics then events");
    assert.equal(s.tokens.output, totals().output);
    assert.equal(s.requests, 3);
    assert.deepEqual(s.lines_of_code, { added: 12, removed: 3 });

    const metrics =
      await (await fetch(`${server.url}/metrics`, { headers: AUTH })).text();
    const cost = [
      ...metrics.matchAll(/^claude_cost_usd_total\{[^}]*\} (\S+)/gm),
    ]
      .reduce((n, m) => n + Number(m[1]), 0);
    close(cost, totals().cost_usd, "claude_cost_usd_total");
    const input = [
      ...metrics.matchAll(/^claude_tokens_total\{([^}]*)\} (\S+)/gm),
    ]
      .filter((m) => m[1].includes('type="input"'))
      .reduce((n, m) => n + Number(m[2]), 0);
    assert.equal(input, totals().input);
    assert.doesNotMatch(metrics, /claude_tokens_total\{[^}]*session/);
  });
});

Deno.test("otlp ingest - malformed OTLP gets 400 with a Status body and stores nothing", async () => {
  await withApp(async (server) => {
    const cases: [string | Uint8Array, string, Record<string, string>][] = [
      ["{not json", JSON_TYPE, {}],
      ["[1,2,3]", JSON_TYPE, {}],
      ['{"resourceLogs":[{"scopeLogs":"x"}]}', JSON_TYPE, {}],
      ['{"resourceMetrics":[{"scopeMetrics":"x"}]}', JSON_TYPE, {}],
      [new Uint8Array([0x0a, 100, 1, 2]), PROTO_TYPE, {}],
      [new Uint8Array([1, 2, 3, 4]), PROTO_TYPE, {
        "content-encoding": "gzip",
      }],
    ];
    for (const [body, type, headers] of cases) {
      for (const signal of ["logs", "metrics"] as const) {
        // the other signal's fields are unknown ones, which OTLP JSON ignores
        if (String(body).includes(signal === "logs" ? "Metrics" : "Logs")) {
          continue;
        }
        const res = await post(server, signal, body, type, headers);
        assert.equal(
          res.status,
          400,
          `${signal} ${type} ${String(body).slice(0, 20)}`,
        );
        const status = type === JSON_TYPE
          ? JSON.parse(new TextDecoder().decode(res.body))
          : decodeStatus(res.body);
        assert.equal(status.code, 3);
        assert.match(status.message, /body is not|body must be|not valid gzip/);
      }
    }
    const unsupported = await post(server, "logs", "x", "text/plain");
    assert.equal(unsupported.status, 415);
    const noToken = await server.fetch(`${server.url}/v1/logs`, {
      method: "POST",
      headers: { "content-type": JSON_TYPE },
      body: "{}",
    });
    assert.equal(noToken.status, 401);
    await noToken.body?.cancel();
    assert.deepEqual((await getJson(server, "/sessions")).sessions, []);
    assert.deepEqual(await getJson(server, "/events/recent"), []);
  });
});

Deno.test("otlp ingest - bodies over the limit get 413, before and after inflating", async () => {
  await withApp(async (server) => {
    const big = new Uint8Array(8 * 1024);
    assert.equal((await post(server, "logs", big, PROTO_TYPE)).status, 413);
    const bomb = await gzip(new Uint8Array(64 * 1024));
    assert.ok(bomb.byteLength < 4096);
    const res = await post(server, "metrics", bomb, PROTO_TYPE, {
      "content-encoding": "gzip",
    });
    assert.equal(res.status, 413);
    assert.match(
      decodeStatus(res.body).message ?? "",
      /larger than 4096 bytes/,
    );
  }, { MAX_BATCH_BYTES: "4096" });
});

/** OTLP JSON written by hand from Claude Code's documented event attributes. */
function handWritten(records: Record<string, string | number>[]): string {
  const value = (v: string | number) =>
    typeof v === "number"
      ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v })
      : { stringValue: v };
  return JSON.stringify({
    resourceLogs: [{
      resource: {
        attributes: [{
          key: "service.name",
          value: { stringValue: "claude-code" },
        }],
      },
      scopeLogs: [{
        scope: { name: "com.anthropic.claude_code.events" },
        logRecords: records.map((attrs) => ({
          timeUnixNano: `${Date.now()}000000`,
          body: { stringValue: `claude_code.${attrs["event.name"]}` },
          attributes: Object.entries(attrs).map(([key, v]) => ({
            key,
            value: value(v),
          })),
        })),
      }],
    }],
  });
}

Deno.test("otlp ingest - hand-written Claude Code events join hook events by session and prompt", async () => {
  await withApp(async (server) => {
    const session = "hand-session-1";
    const prompt = "hand-prompt-1";
    const stream = await openSse(`${server.url}/stream`, AUTH, server.fetch);
    try {
      await stream.until((frames) =>
        frames.some((f) => f.event === "snapshot")
      );
      for (
        const [type, payload] of [
          ["UserPromptSubmit", { prompt_id: prompt, prompt: "fix the bug" }],
          ["PreToolUse", { prompt_id: prompt, tool_name: "Bash" }],
          ["PermissionRequest", { prompt_id: prompt, tool_name: "Bash" }],
        ] as const
      ) {
        const res = await server.postJson(
          `${server.url}/events`,
          sampleEvent({
            source_app: "repo-hand",
            session_id: session,
            hook_event_type: type,
            payload: { session_id: session, ...payload },
          }),
          AUTH,
        );
        assert.equal(res.status, 200);
      }
      const body = handWritten([
        {
          "event.name": "api_request",
          "session.id": session,
          "prompt.id": prompt,
          "event.sequence": 4,
          model: "claude-opus-4-5",
          cost_usd: 0.25,
          input_tokens: 1000,
          output_tokens: 2000,
          cache_read_tokens: 3000,
          cache_creation_tokens: 400,
          duration_ms: 9000,
        },
        {
          "event.name": "api_error",
          "session.id": session,
          "prompt.id": prompt,
          "event.sequence": 5,
          model: "claude-opus-4-5",
          error: "<b>Overloaded</b>",
          status_code: "529",
          attempt: 2,
        },
        { "event.name": "api_request", cost_usd: 1 },
      ]);
      const res = await post(server, "logs", body, JSON_TYPE);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(res.body)), {
        partialSuccess: {
          rejectedLogRecords: "1",
          errorMessage: "api_request has no session.id",
        },
      });
      const frames = await stream.until((f) =>
        f.some((x) =>
          x.event === "session" && JSON.parse(x.data).session_id === session
        )
      );
      const frame = JSON.parse(
        frames.findLast((f) => f.event === "session")!.data,
      );
      assert.equal(frame.cost_usd, 0.25);
      assert.equal(frame.source_app, "repo-hand");
      assert.equal(frames.findLast((f) => f.event === "session")!.id, null);
    } finally {
      await stream.close();
    }
    const list = await getJson(server, "/sessions?sort=cost_usd&order=desc");
    assert.equal(list.sessions.length, 1);
    const s = list.sessions[0];
    assert.equal(s.session_id, session);
    assert.equal(s.source_app, "repo-hand");
    assert.equal(s.state, "waiting");
    assert.equal(s.cost_usd, 0.25);
    assert.deepEqual(s.tokens, {
      input: 1000,
      output: 2000,
      cache_read: 3000,
      cache_creation: 400,
    });
    assert.deepEqual(s.models, ["claude-opus-4-5"]);
    assert.equal(s.events.priority, 2);
    assert.equal(s.events.otel, 2);
    assert.equal(list.totals.cost_usd, 0.25);
    const detail = await getJson(server, `/sessions/${session}`);
    assert.equal(detail.prompts.length, 1);
    assert.equal(detail.prompts[0].hook_events, 3);
    assert.equal(detail.prompts[0].cost_usd, 0.25);
    assert.equal(detail.prompts[0].errors, 1);
    const timeline = await getJson(
      server,
      `/events/recent?session_id=${session}`,
    );
    const request = timeline.find((e: { hook_event_type: string }) =>
      e.hook_event_type === "claude_code.api_request"
    );
    assert.equal(request.source_app, "repo-hand");
    assert.equal(request.payload.source, "otel");
    assert.equal(request.payload.prompt_id, prompt);
    assert.equal(request.model_name, "claude-opus-4-5");
    const error = timeline.find((e: { hook_event_type: string }) =>
      e.hook_event_type === "claude_code.api_error"
    );
    assert.equal(error.payload.error, "<b>Overloaded</b>");
  });
});

Deno.test("otlp ingest - the OpenTelemetry JS SDK's exporters deliver to hookwatch (http/json and http/protobuf)", async () => {
  await withServer(async (server) => {
    for (const protobuf of [false, true]) {
      const url = `${server.url}/v1/logs`;
      const exporter = protobuf
        ? new ProtoLogExporter({ url, headers: AUTH })
        : new JsonLogExporter({ url, headers: AUTH });
      const provider = new LoggerProvider({
        processors: [new SimpleLogRecordProcessor({ exporter })],
      });
      const logger = provider.getLogger("com.anthropic.claude_code.events");
      logger.emit({
        body: "claude_code.api_request",
        attributes: {
          "event.name": "api_request",
          "session.id": `sdk-${protobuf ? "proto" : "json"}`,
          "event.sequence": 1,
          model: "claude-sonnet-4-5",
          cost_usd: "0.5",
          input_tokens: "10",
          output_tokens: "20",
        },
      });
      await provider.forceFlush();
      await provider.shutdown();
    }
    const list = await getJson(server, "/sessions?sort=cost_usd");
    assert.deepEqual(
      list.sessions.map((
        s: { session_id: string; cost_usd: number },
      ) => [s.session_id, s.cost_usd])
        .sort(),
      [["sdk-json", 0.5], ["sdk-proto", 0.5]],
    );
  });
});

Deno.test("otlp ingest - session queries reject bad parameters and unknown sessions", async () => {
  await withApp(async (server) => {
    for (
      const q of [
        "sort=price",
        "order=up",
        "limit=0",
        "state=sleeping",
        "since=yesterday",
      ]
    ) {
      const res = await server.fetch(`${server.url}/sessions?${q}`, {
        headers: AUTH,
      });
      assert.equal(res.status, 400, q);
      assert.match((await res.json()).error, new RegExp(q.split("=")[0]));
    }
    const missing = await server.fetch(`${server.url}/sessions/nope`, {
      headers: AUTH,
    });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

Deno.test("otlp ingest - partial success names records that are not Claude Code's", async () => {
  await withApp(async (server) => {
    const res = await post(
      server,
      "metrics",
      JSON.stringify({
        resourceMetrics: [{
          scopeMetrics: [{
            metrics: [{
              name: "http.server.duration",
              gauge: { dataPoints: [{ asDouble: 1 }] },
            }],
          }],
        }],
      }),
      JSON_TYPE,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(decodeResponseJson(res.body), {
      partialSuccess: {
        rejectedDataPoints: "1",
        errorMessage: "http.server.duration is not a Claude Code metric",
      },
    });
    const proto = await post(server, "logs", new Uint8Array(), PROTO_TYPE);
    assert.equal(proto.status, 200);
    assert.deepEqual(decodeResponse("logs", proto.body), {});
  });
});

function decodeResponseJson(body: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(body));
}
