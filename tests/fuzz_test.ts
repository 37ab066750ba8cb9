import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import { sampleEvent, startServer } from "./helpers/server.ts";
import { startApp } from "./helpers/app.ts";

const RUNS = Number(Deno.env.get("HOOKWATCH_FUZZ_RUNS") ?? 150);

interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  text: string;
}

/** A real server or an in-process app (tests/helpers/app.ts). */
interface Target {
  url: string;
  dbPath: string;
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

async function send(
  server: Target,
  path: string,
  body: BodyInit,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<Answer> {
  const res = await server.fetch(`${server.url}${path}`, {
    method: "POST",
    headers,
    body,
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch { /* asserted by the caller */ }
  return { status: res.status, body: parsed, text };
}

/** Every answer: 2xx, or a 4xx with a JSON `error` string. Never 5xx. */
function assertClean(answer: Answer, what: string): void {
  assert.ok(answer.status < 500, `${what}: ${answer.status} ${answer.text}`);
  if (answer.status >= 400) {
    assert.equal(
      typeof answer.body?.error,
      "string",
      `${what}: ${answer.text}`,
    );
  }
}

function storedCount(server: Target): number {
  const db = new DatabaseSync(server.dbPath, { readOnly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM events").get() as {
      n: number;
    }).n;
  } finally {
    db.close();
  }
}

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const longString = (min: number) =>
  fc.string({ minLength: min, maxLength: min + 200 });
// NaN and ±Infinity are left out: JSON.stringify writes them as null, which is a valid
// "absent" for optional fields, not a broken one.
const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);

/** One field broken per body; the answer must be a 400 naming exactly that field. */
const brokenField = fc.oneof(
  ...(["source_app", "session_id"] as const).map((field) =>
    fc.record({
      field: fc.constant(field),
      value: fc.oneof(
        fc.constant(undefined),
        fc.constant(null),
        fc.constant(""),
        longString(257),
        notAString,
      ),
    })
  ),
  fc.record({
    field: fc.constant("hook_event_type"),
    value: fc.oneof(
      fc.constant(undefined),
      fc.string().filter((s) => !TYPE_PATTERN.test(s)),
      fc.constant("A" + "b".repeat(200)),
      notAString,
    ),
  }),
  fc.record({
    field: fc.constant("payload"),
    value: fc.oneof(
      fc.array(fc.jsonValue(), { maxLength: 3 }),
      fc.string(),
      fc.integer(),
      fc.boolean(),
    ),
  }),
  fc.record({
    field: fc.constant("timestamp"),
    value: fc.oneof(
      fc.integer({ max: -1 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) =>
        !Number.isInteger(n)
      ),
      fc.integer({ min: 2, max: 1000 }).map((days) =>
        Date.now() + days * 86_400_000
      ),
      fc.constant(1e300),
      fc.string(),
      fc.boolean(),
    ),
  }),
  fc.record({
    field: fc.constant("chat"),
    value: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.dictionary(fc.string(), fc.string()),
    ),
  }),
  ...(["model_name", "event_id"] as const).map((field) =>
    fc.record({
      field: fc.constant(field),
      value: fc.oneof(longString(257), notAString),
    })
  ),
  fc.record({
    field: fc.constant("summary"),
    value: fc.oneof(longString(64 * 1024 + 1), notAString),
  }),
);

function withBroken(
  broken: { field: string; value: unknown },
): Record<string, unknown> {
  const body = sampleEvent({ timestamp: Date.now() });
  if (broken.value === undefined) delete body[broken.field];
  else body[broken.field] = broken.value;
  return body;
}

let casesTried = 0;
let fiveHundreds = 0;
function count(answer: Answer): Answer {
  casesTried++;
  if (answer.status >= 500) fiveHundreds++;
  return answer;
}

Deno.test("fuzz - one broken field gets a 400 naming it, on /events and inside a batch that then stores nothing", async () => {
  const server = await startApp();
  try {
    await fc.assert(
      fc.asyncProperty(brokenField, async (broken) => {
        const single = count(
          await send(server, "/events", JSON.stringify(withBroken(broken))),
        );
        assertClean(single, `single ${broken.field}`);
        assert.equal(single.status, 400, single.text);
        assert.equal(single.body.field, broken.field);
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(
        brokenField,
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        fc.boolean(),
        async (broken, size, at, ndjson) => {
          const events: unknown[] = Array.from(
            { length: size },
            (_, i) => sampleEvent({ session_id: `batch-${i}` }),
          );
          const index = at % (size + 1);
          events.splice(index, 0, withBroken(broken));
          const answer = count(
            await send(
              server,
              "/events/batch",
              ndjson
                ? events.map((e) => JSON.stringify(e)).join("\n")
                : JSON.stringify(events),
              {
                "content-type": ndjson
                  ? "application/x-ndjson"
                  : "application/json",
              },
            ),
          );
          assertClean(answer, `batch ${broken.field}`);
          assert.equal(answer.status, 400, answer.text);
          assert.equal(answer.body.field, `events[${index}].${broken.field}`);
        },
      ),
      { numRuns: RUNS },
    );
    assert.equal(storedCount(server), 0, "nothing was half-written");
  } finally {
    await server.close();
  }
});

Deno.test("fuzz - arbitrary bytes, JSON values and hook inputs never get a 5xx, and what is refused is not stored", async () => {
  const server = await startApp();
  let accepted = 0;
  try {
    const routes = ["/events", "/events/batch", "/hooks/fuzz-app"];
    const bodies = fc.oneof(
      // invalid UTF-8 and random bytes
      fc.uint8Array({ maxLength: 2048 }).map((b) => b as BodyInit),
      fc.string({ unit: "binary", maxLength: 512 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.anything().map((v) => JSON.stringify(v) ?? "undefined"),
      // near-valid events: every field arbitrary JSON
      fc.record({
        source_app: fc.jsonValue(),
        session_id: fc.jsonValue(),
        hook_event_type: fc.oneof(
          fc.constantFrom("Stop", "PreToolUse"),
          fc.jsonValue(),
        ),
        hook_event_name: fc.oneof(
          fc.constantFrom("Stop", "Notification"),
          fc.jsonValue(),
        ),
        payload: fc.jsonValue(),
        timestamp: fc.oneof(fc.jsonValue(), fc.integer()),
        chat: fc.jsonValue(),
      }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      // lone surrogates escaped inside JSON strings
      fc.constant(
        '{"source_app":"\\ud800","session_id":"\\udfff","hook_event_type":"Stop"}',
      ),
      // duplicate keys: the last one wins, as in JSON.parse
      fc.constant(
        '{"source_app":"a","source_app":5,"session_id":"s","hook_event_type":"Stop"}',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        bodies,
        async (route, body) => {
          const answer = count(await send(server, route, body));
          assertClean(answer, route);
          if (answer.status < 300) {
            accepted += route === "/events/batch" ? answer.body.count : 1;
          }
        },
      ),
      { numRuns: RUNS * 4 },
    );
    const dup = await send(
      server,
      "/events",
      '{"source_app":"a","source_app":5,"session_id":"s","hook_event_type":"Stop"}',
    );
    assert.equal(dup.status, 400);
    assert.equal(dup.body.field, "source_app");
    // Deep nesting parses (V8 parses iteratively) and is stored whole, or refused: never a crash.
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const nested = count(
      await send(
        server,
        "/events",
        `{"source_app":"a","session_id":"s","hook_event_type":"Stop","payload":{"d":${deep}}}`,
      ),
    );
    assertClean(nested, "deep nesting");
    if (nested.status === 200) accepted++;
    assert.equal(
      storedCount(server),
      accepted,
      "only accepted events are stored",
    );
  } finally {
    await server.close();
  }
});

Deno.test("fuzz - query parameters: arbitrary values get 200 or a 400 naming the parameter", async () => {
  const server = await startApp();
  try {
    await send(server, "/events", JSON.stringify(sampleEvent()));
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.integer().map(String),
      fc.double().map(String),
      fc.constantFrom(
        "",
        "-1",
        "0",
        "NaN",
        "1e309",
        "999999999999999999999",
        "0x10",
      ),
      fc.string({ minLength: 257, maxLength: 400 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(
            "limit",
            "source_app",
            "session_id",
            "hook_event_type",
            "priority",
            "last_event_id",
            "other",
          ),
          value,
          { maxKeys: 4 },
        ),
        fc.constantFrom("/events/recent", "/stream", "/events/"),
        value,
        async (params, path, id) => {
          const url = path === "/events/"
            ? `${server.url}/events/${encodeURIComponent(id)}`
            : `${server.url}${path}?${new URLSearchParams(params)}`;
          const res = await server.fetch(url);
          const answer = count({
            status: res.status,
            text: path === "/stream" && res.ok ? "" : await res.text(),
            body: null,
          });
          if (path === "/stream" && res.ok) await res.body?.cancel();
          else {
            try {
              answer.body = JSON.parse(answer.text);
            } catch { /* assertClean reports it */ }
          }
          assertClean(answer, url);
          if (answer.status >= 400 && answer.status !== 404) {
            assert.equal(answer.status, 400);
            assert.match(
              answer.body.error,
              /^(limit|source_app|session_id|hook_event_type|priority|id|Last-Event-ID) /,
            );
          }
        },
      ),
      { numRuns: RUNS * 2 },
    );
  } finally {
    await server.close();
  }
});

Deno.test("fuzz - 10 MB bodies: 413 over the event limit, 400 for a batch that is not JSON, nothing stored", async () => {
  const server = await startApp();
  try {
    const ten = "x".repeat(10 * 1024 * 1024);
    const event =
      `{"source_app":"a","session_id":"s","hook_event_type":"Stop","payload":{"b":"${ten}"}}`;
    const sized = count(
      await send(server, "/events", event, {
        "content-length": String(new TextEncoder().encode(event).byteLength),
      }),
    );
    assert.equal(sized.status, 413);
    assert.match(sized.body.error, /larger than/);
    // Chunked, with no Content-Length: the limit is counted as it streams.
    const chunked = count(
      await send(server, "/events", new Blob([event]).stream()),
    );
    assert.equal(chunked.status, 413);
    const garbage = count(await send(server, "/events/batch", ten));
    assert.equal(garbage.status, 400);
    assert.ok(garbage.text.length < 200, "the error does not echo the body");
    const oneBadLine = [
      JSON.stringify(sampleEvent()),
      JSON.stringify(sampleEvent({ payload: { b: ten.slice(0, 5_000_000) } })),
      "{not json",
    ].join("\n");
    const bad = count(
      await send(server, "/events/batch", oneBadLine, {
        "content-type": "application/x-ndjson",
      }),
    );
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /line 3/);
    assert.equal(storedCount(server), 0);
  } finally {
    await server.close();
  }
});

Deno.test("fuzz - a body that trickles in (slow-loris) is cut off with 408 while others are served", async () => {
  const server = await startServer({ env: { BODY_TIMEOUT_MS: "800" } });
  try {
    const encoder = new TextEncoder();
    let sent = 0;
    let answered = false;
    const trickle = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 100));
        if (answered || sent++ > 100) controller.close();
        else controller.enqueue(encoder.encode(" "));
      },
    });
    const started = performance.now();
    const slow = send(server, "/events", trickle);
    // Meanwhile another client is served at once.
    const quick = await send(server, "/events", JSON.stringify(sampleEvent()));
    assert.equal(quick.status, 200);
    const answer = count(await slow);
    answered = true;
    assert.equal(answer.status, 408);
    assert.match(answer.body.error, /not received within 800 ms/);
    assert.ok(performance.now() - started < 5_000);

    // Content-Length announced, body never completed: answered 408 all the same.
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    try {
      await conn.write(
        encoder.encode(
          "POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        ),
      );
      const buffer = new Uint8Array(4096);
      let text = "";
      while (!text.includes("not received within")) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      assert.match(text, /^HTTP\/1\.1 408/);
      casesTried++;
    } finally {
      conn.close();
    }
    assert.equal(storedCount(server), 1);
    console.log(
      `fuzz: ${casesTried} inputs tried so far in this file, ${fiveHundreds} answered 5xx`,
    );
  } finally {
    await server.stop();
  }
});
