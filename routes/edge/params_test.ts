import assert from "node:assert/strict";
import { HttpError } from "../../common/errors.ts";
import { LIMITS } from "../../common/events.ts";
import { startApp } from "../../tests/helpers/app.ts";
import { param } from "./params.ts";

Deno.test("params - the parsers take what they say and name the parameter otherwise", () => {
  const limit = param.limit(LIMITS.pages.events);
  assert.equal(limit(undefined, "limit"), 100);
  assert.equal(limit("7", "limit"), 7);
  assert.equal(limit("100000", "limit"), 1000);
  for (const bad of ["0", "-1", "1.5", "abc", "", "0x10", "1e3"]) {
    assert.throws(
      () => limit(bad, "limit"),
      (e) => e instanceof HttpError && e.details.field === "limit",
      bad,
    );
  }
  for (const [raw, bucket] of [["1", 1], ["true", 1], ["priority", 1]]) {
    assert.equal(param.priority(raw as string, "priority"), bucket);
  }
  for (const [raw, bucket] of [["0", 0], ["false", 0], ["regular", 0]]) {
    assert.equal(param.priority(raw as string, "priority"), bucket);
  }
  assert.equal(param.text()("x".repeat(LIMITS.idLength), "a")?.length, 256);
  assert.throws(() => param.text()("x".repeat(257), "a"), /a must be 1 to 256/);
  assert.throws(() => param.key("", "id"), /id must be 1 to 256/);
  assert.equal(param.id("12", "id"), 12);
  assert.throws(() => param.id("1e3", "id"), /id must be a positive integer/);
  assert.equal(param.oneOf(["a", "b"])(undefined, "x"), undefined);
  assert.throws(
    () => param.oneOf(["a", "b"])("c", "x"),
    /x must be one of a, b/,
  );
});

Deno.test("params - a bad value is the same 400 { error, field } on every route", async () => {
  const server = await startApp();
  try {
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await server.fetch(`${server.url}${path}`, { headers });
      const body = res.headers.get("content-type")?.includes("json")
        ? await res.json()
        : (await res.body?.cancel(), null);
      return { status: res.status, body };
    };
    const badLimit = {
      error: "limit must be a positive integer",
      field: "limit",
    };
    for (
      const path of [
        "/events/recent?limit=abc",
        "/sessions?limit=abc",
        "/sessions/s1/tools?limit=abc",
        "/inbox?limit=abc",
      ]
    ) {
      assert.deepEqual(await get(path), { status: 400, body: badLimit }, path);
    }
    const badPriority = {
      status: 400,
      body: {
        error: "priority must be 1, 0, true, false, priority or regular",
        field: "priority",
      },
    };
    assert.deepEqual(await get("/events/recent?priority=maybe"), badPriority);
    assert.deepEqual(await get("/stream?priority=maybe"), badPriority);
    // What /events/recent always took, /stream takes too.
    for (const value of ["1", "0", "true", "false", "priority", "regular"]) {
      assert.equal((await get(`/events/recent?priority=${value}`)).status, 200);
      assert.equal((await get(`/stream?priority=${value}`)).status, 200);
    }
    const cases: [string, string, Record<string, string>?][] = [
      ["/events/recent?hook_event_type=%3Cscript%3E", "hook_event_type"],
      ["/events/recent?source_app=", "source_app"],
      [`/events/recent?session_id=${"x".repeat(257)}`, "session_id"],
      ["/events/abc", "id"],
      ["/inbox/abc", "id"],
      [`/sessions/${"x".repeat(257)}`, "id"],
      ["/sessions?order=up", "order"],
      ["/sessions?since=-1", "since"],
      ["/inbox?bogus=1", "bogus"],
      ["/sessions/s1/tools?outcome=maybe", "outcome"],
      ["/?view=everything", "view"],
      ["/?event=0", "event"],
      ["/stream", "Last-Event-ID", { "last-event-id": "x" }],
      ["/stream?last_event_id=-1", "Last-Event-ID"],
      ["/hooks/app/decide?wait=0", "wait"],
    ];
    for (const [path, field, headers] of cases) {
      const method = path.includes("/decide") ? "POST" : "GET";
      const res = await server.fetch(`${server.url}${path}`, {
        method,
        headers,
      });
      const body = await res.json();
      assert.equal(res.status, 400, path);
      assert.equal(body.field, field, path);
      assert.ok(body.error.startsWith(`${field} `), body.error);
      assert.deepEqual(Object.keys(body).sort(), ["error", "field"], path);
    }
    // An empty dashboard form field is no value; a larger limit is served the cap.
    assert.equal((await get("/?view=&event=")).status, 200);
    assert.equal((await get("/events/recent?limit=100000")).status, 200);
  } finally {
    await server.close();
  }
});
