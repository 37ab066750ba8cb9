import assert from "node:assert/strict";
import { sampleEvent } from "./helpers/server.ts";
import { startApp } from "./helpers/app.ts";
import { CORE_HOOK_TYPES, isPriority } from "../common/classify.ts";

Deno.test("ingest - POST /events stores, classifies and answers its id, priority and timestamp", async () => {
  const server = await startApp();
  try {
    const before = Date.now();
    const res = await server.postJson(`${server.url}/events`, sampleEvent());
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.id, "number");
    assert.equal(res.body.priority, 0);
    assert.ok(
      res.body.timestamp >= before,
      "timestamp defaulted by the server",
    );
    const stop = await server.postJson(
      `${server.url}/events`,
      sampleEvent({ hook_event_type: "Stop", timestamp: 1_700_000_000_000 }),
    );
    // What the batch answers per event, never the payload echoed back.
    assert.deepEqual(stop.body, {
      id: res.body.id + 1,
      priority: 1,
      timestamp: 1_700_000_000_000,
      duplicate: false,
    });
    const got =
      await (await server.fetch(`${server.url}/events/${res.body.id}`))
        .json();
    assert.deepEqual(got.payload, sampleEvent().payload);
  } finally {
    await server.close();
  }
});

Deno.test("ingest - the send_event.py body (summary, chat, model_name) is stored and served", async () => {
  const server = await startApp();
  try {
    const body = {
      source_app: "my-repo",
      session_id: "abc",
      hook_event_type: "UserPromptSubmit",
      payload: {
        hook_event_name: "UserPromptSubmit",
        prompt: "fix the bug",
        session_id: "abc",
      },
      timestamp: Date.now(),
      model_name: "claude-sonnet-4-5",
      summary: "User asks to fix a bug",
      chat: [{
        type: "user",
        message: { role: "user", content: "fix the bug" },
      }],
    };
    const res = await server.fetch(`${server.url}/events`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Python-urllib/3.11",
      },
      body: JSON.stringify(body),
    });
    assert.equal(
      res.status,
      200,
      "send_event.py treats anything but 200 as a failure",
    );
    const stored = await res.json();
    const full = await (await server.fetch(`${server.url}/events/${stored.id}`))
      .json();
    for (
      const key of [
        "source_app",
        "session_id",
        "hook_event_type",
        "payload",
        "model_name",
      ]
    ) {
      assert.deepEqual(full[key], body[key as keyof typeof body], key);
    }
    assert.deepEqual(full.chat, body.chat);
    assert.equal(full.summary, body.summary);
    assert.equal(full.priority, 1);
  } finally {
    await server.close();
  }
});

Deno.test("ingest - every core hook type is classified as the product says", async () => {
  const server = await startApp();
  try {
    for (const type of CORE_HOOK_TYPES) {
      const res = await server.postJson(
        `${server.url}/events`,
        sampleEvent({ hook_event_type: type }),
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.priority, isPriority(type) ? 1 : 0, type);
    }
    const unknown = await server.postJson(
      `${server.url}/events`,
      sampleEvent({ hook_event_type: "SomeFutureEvent" }),
    );
    assert.equal(unknown.body.priority, 0);
  } finally {
    await server.close();
  }
});

Deno.test("ingest - PRIORITY_EVENT_TYPES replaces the priority set", async () => {
  const server = await startApp({ PRIORITY_EVENT_TYPES: "PreToolUse" });
  try {
    const pre = await server.postJson(`${server.url}/events`, sampleEvent());
    const stop = await server.postJson(
      `${server.url}/events`,
      sampleEvent({ hook_event_type: "Stop" }),
    );
    assert.equal(pre.body.priority, 1);
    assert.equal(stop.body.priority, 0);
  } finally {
    await server.close();
  }
});

Deno.test("ingest - bad bodies get a 400 naming the problem and store nothing", async () => {
  const server = await startApp({ MAX_BODY_BYTES: "65536" });
  try {
    const cases: [string, string | Uint8Array<ArrayBuffer>, RegExp][] = [
      ["not json", "{", /not valid JSON/],
      ["array", "[]", /body must be a JSON object/],
      ["null", "null", /body must be a JSON object/],
      [
        "missing source_app",
        JSON.stringify({ ...sampleEvent(), source_app: undefined }),
        /source_app is required/,
      ],
      [
        "numeric session_id",
        JSON.stringify(sampleEvent({ session_id: 42 })),
        /session_id must be a string/,
      ],
      [
        "empty type",
        JSON.stringify(sampleEvent({ hook_event_type: "" })),
        /hook_event_type/,
      ],
      [
        "html type",
        JSON.stringify(sampleEvent({ hook_event_type: "<b>x</b>" })),
        /hook_event_type/,
      ],
      [
        "payload array",
        JSON.stringify(sampleEvent({ payload: [1] })),
        /payload must be a JSON object/,
      ],
      [
        "payload string",
        JSON.stringify(sampleEvent({ payload: "x" })),
        /payload/,
      ],
      [
        "string timestamp",
        JSON.stringify(sampleEvent({ timestamp: "now" })),
        /timestamp/,
      ],
      [
        "negative timestamp",
        JSON.stringify(sampleEvent({ timestamp: -1 })),
        /timestamp/,
      ],
      [
        "fractional timestamp",
        JSON.stringify(sampleEvent({ timestamp: 1.5 })),
        /timestamp/,
      ],
      [
        "future timestamp",
        JSON.stringify(sampleEvent({ timestamp: Date.now() + 400 * 86400e3 })),
        /future/,
      ],
      [
        "chat object",
        JSON.stringify(sampleEvent({ chat: { a: 1 } })),
        /chat must be an array/,
      ],
      [
        "summary number",
        JSON.stringify(sampleEvent({ summary: 5 })),
        /summary/,
      ],
      [
        "long source_app",
        JSON.stringify(sampleEvent({ source_app: "x".repeat(300) })),
        /source_app/,
      ],
      [
        "invalid utf-8",
        new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        /UTF-8/,
      ],
    ];
    for (const [name, body, message] of cases) {
      const res = await server.fetch(`${server.url}/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const answer = await res.json();
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(answer)}`);
      assert.match(answer.error, message, name);
    }
    const huge = await server.fetch(`${server.url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sampleEvent({ summary: "x".repeat(70_000) })),
    });
    assert.equal(huge.status, 413);
    assert.match((await huge.json()).error, /larger than 65536 bytes/);
    const recent = await (await server.fetch(`${server.url}/events/recent`))
      .json();
    assert.equal(recent.length, 0, "nothing was stored");
  } finally {
    await server.close();
  }
});

Deno.test("ingest - batch (JSON array and NDJSON) is all or nothing", async () => {
  const server = await startApp();
  try {
    const ok = await server.postJson(`${server.url}/events/batch`, [
      sampleEvent(),
      sampleEvent({ hook_event_type: "Notification" }),
    ]);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.count, 2);
    assert.deepEqual(
      ok.body.events.map((e: { priority: number }) => e.priority),
      [0, 1],
    );

    const ndjson = [sampleEvent(), sampleEvent({ hook_event_type: "Stop" })]
      .map((e) => JSON.stringify(e)).join("\n") + "\n";
    const nd = await server.fetch(`${server.url}/events/batch`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: ndjson,
    });
    assert.equal(nd.status, 200);
    assert.equal((await nd.json()).count, 2);

    const bad = await server.postJson(`${server.url}/events/batch`, [
      sampleEvent(),
      sampleEvent({ session_id: null }),
    ]);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /events\[1\]\.session_id is required/);
    const badLine = await server.fetch(`${server.url}/events/batch`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: `${JSON.stringify(sampleEvent())}\n{oops\n`,
    });
    assert.equal(badLine.status, 400);
    assert.match((await badLine.json()).error, /line 2 is not valid JSON/);
    const empty = await server.postJson(`${server.url}/events/batch`, []);
    assert.equal(empty.status, 400);

    const all =
      await (await server.fetch(`${server.url}/events/recent?limit=100`))
        .json();
    assert.equal(all.length, 4, "bad batches stored nothing");
  } finally {
    await server.close();
  }
});

Deno.test("ingest - POST /hooks/:source_app takes raw hook input and answers 2xx with an empty body", async () => {
  const server = await startApp();
  try {
    const res = await server.fetch(`${server.url}/hooks/my-repo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        hook_event_name: "PermissionRequest",
        session_id: "abc",
        transcript_path: "/tmp/t.jsonl",
        cwd: "/work",
        tool_name: "Bash",
        tool_input: { command: "rm -rf build" },
      }),
    });
    assert.ok(res.status >= 200 && res.status < 300);
    assert.equal(await res.text(), "");
    const [event] =
      await (await server.fetch(`${server.url}/events/recent?limit=1`))
        .json();
    assert.equal(event.source_app, "my-repo");
    assert.equal(event.hook_event_type, "PermissionRequest");
    assert.equal(event.priority, 1);
    assert.equal(event.payload.tool_input.command, "rm -rf build");
    const bad = await server.postJson(`${server.url}/hooks/my-repo`, {
      session_id: "abc",
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /hook_event_name/);
  } finally {
    await server.close();
  }
});

Deno.test("ingest - event_id makes a retried send idempotent", async () => {
  const server = await startApp();
  try {
    const first = await server.postJson(
      `${server.url}/events`,
      sampleEvent({ event_id: "uuid-1" }),
    );
    const second = await server.postJson(
      `${server.url}/events`,
      sampleEvent({ event_id: "uuid-1" }),
    );
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.body.duplicate, true);
    const batch = await server.postJson(`${server.url}/events/batch`, [
      sampleEvent({ event_id: "uuid-1" }),
      sampleEvent({ event_id: "uuid-2" }),
    ]);
    assert.deepEqual(
      batch.body.events.map((e: { duplicate: boolean }) => e.duplicate),
      [
        true,
        false,
      ],
    );
    const all = await (await server.fetch(`${server.url}/events/recent`))
      .json();
    assert.equal(all.length, 2);
  } finally {
    await server.close();
  }
});

Deno.test("ingest - concurrent POSTs are all acknowledged and stored once", async () => {
  const server = await startApp();
  try {
    const results = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          server.postJson(
            `${server.url}/events`,
            sampleEvent({ session_id: `s${i}` }),
          ),
      ),
    );
    assert.ok(results.every((r) => r.status === 200));
    const ids = new Set(results.map((r) => r.body.id));
    assert.equal(ids.size, 200);
    const stored =
      await (await server.fetch(`${server.url}/events/recent?limit=1000`))
        .json();
    assert.equal(stored.length, 200);
  } finally {
    await server.close();
  }
});

Deno.test("ingest - an event without a model gets its session's last known model (http hooks carry none)", async () => {
  const server = await startApp();
  try {
    const first = await server.postJson(`${server.url}/hooks/my-repo`, {
      hook_event_name: "SessionStart",
      session_id: "s-model",
    });
    assert.equal(first.status, 204);
    await server.postJson(
      `${server.url}/events`,
      sampleEvent({ session_id: "s-model", model_name: "claude-opus-4-5" }),
    );
    const http = await server.postJson(`${server.url}/hooks/my-repo`, {
      hook_event_name: "Stop",
      session_id: "s-model",
    });
    assert.equal(http.status, 204);
    const other = await server.postJson(
      `${server.url}/events`,
      sampleEvent({ session_id: "s-other" }),
    );
    const stored = await (await server.fetch(
      `${server.url}/events/${other.body.id}`,
    )).json();
    assert.equal(stored.model_name, null);
    const events = await (await server.fetch(
      `${server.url}/events/recent?session_id=s-model`,
    )).json();
    const byType = Object.fromEntries(
      // deno-lint-ignore no-explicit-any
      events.map((e: any) => [e.hook_event_type, e.model_name]),
    );
    assert.deepEqual(byType, {
      SessionStart: null,
      PreToolUse: "claude-opus-4-5",
      Stop: "claude-opus-4-5",
    });
  } finally {
    await server.close();
  }
});
