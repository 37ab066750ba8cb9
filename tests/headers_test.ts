import assert from "node:assert/strict";
import { sampleEvent } from "./helpers/server.ts";
import { startApp } from "./helpers/app.ts";

function assertHardened(res: Response, what: string): void {
  const csp = res.headers.get("content-security-policy") ?? "";
  const directives = new Map(
    csp.split(";").map((d) => d.trim().split(/\s+/)).map((
      [name, ...values],
    ) => [name, values]),
  );
  const scripts = directives.get("script-src") ??
    directives.get("default-src") ?? [];
  assert.ok(scripts.length > 0, `${what}: CSP restricts scripts (${csp})`);
  assert.ok(
    !scripts.includes("'unsafe-inline'") &&
      !scripts.includes("'unsafe-eval'") &&
      !scripts.includes("*"),
    `${what}: no inline script (${csp})`,
  );
  assert.deepEqual(directives.get("object-src") ?? ["'none'"], ["'none'"]);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(res.headers.get("referrer-policy"), "no-referrer", what);
  assert.equal(res.headers.get("x-frame-options"), "DENY", what);
}

const XSS =
  `<img src=x onerror="alert(1)">"></script><script>alert(2)</script><svg onload=alert(3)>`;

Deno.test("headers - every kind of answer carries CSP without inline script, nosniff, no-referrer and frame denial", async () => {
  const server = await startApp({
    HOOKWATCH_TOKEN: "header-test-token",
    MAX_BODY_BYTES: "1024",
  });
  const auth = { authorization: "Bearer header-test-token" };
  try {
    const checks: [string, RequestInit & { path: string }][] = [
      ["json", { path: "/events/recent", headers: auth }],
      ["probe", { path: "/health/live" }],
      ["404", { path: "/nope", headers: auth }],
      ["401", { path: "/events/recent" }],
      ["login page", { path: "/login" }],
      ["dashboard", { path: "/", headers: { ...auth, accept: "text/html" } }],
      ["413", {
        path: "/events",
        method: "POST",
        headers: auth,
        body: "x".repeat(4096),
      }],
      ["400", { path: "/events", method: "POST", headers: auth, body: "{" }],
      ["stored", {
        path: "/events",
        method: "POST",
        headers: auth,
        body: JSON.stringify(sampleEvent()),
      }],
      ["stored batch", {
        path: "/events/batch",
        method: "POST",
        headers: auth,
        body: JSON.stringify([sampleEvent()]),
      }],
      ["stored hook", {
        path: "/hooks/app",
        method: "POST",
        headers: auth,
        body: JSON.stringify({ hook_event_name: "Stop", session_id: "s" }),
      }],
    ];
    for (const [what, { path, ...init }] of checks) {
      const res = await server.fetch(`${server.url}${path}`, init);
      await res.body?.cancel();
      assertHardened(res, `${what} (${res.status})`);
      if (what.startsWith("stored")) {
        assert.ok(res.ok, `${what}: ${res.status}`);
      }
      if (init.method === "POST") {
        assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      }
    }
    const stream = await server.fetch(`${server.url}/stream`, {
      headers: auth,
    });
    assert.equal(stream.status, 200);
    assertHardened(stream, "stream");
    await stream.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("headers - the server-rendered dashboard escapes an XSS payload in every field", async () => {
  const server = await startApp();
  try {
    for (const hook_event_type of ["Stop", "Notification", "PreToolUse"]) {
      const res = await server.postJson(
        `${server.url}/events`,
        sampleEvent({
          source_app: `${XSS}app`,
          session_id: `${XSS}session`,
          hook_event_type,
          model_name: XSS,
          summary: XSS,
          event_id: `${XSS}${hook_event_type}`,
          chat: [{ role: "user", content: XSS }],
          payload: { message: XSS, [XSS]: XSS, agent_id: XSS, tool_name: XSS },
        }),
      );
      assert.equal(res.status, 200);
    }
    const res = await server.fetch(`${server.url}/`, {
      headers: { accept: "text/html" },
    });
    const html = await res.text();
    assert.equal(res.status, 200);
    assertHardened(res, "dashboard");
    assert.ok(!html.includes("<script>alert"), "no injected script element");
    assert.ok(!/<img[^>]*onerror/i.test(html), "no injected img handler");
    assert.ok(!/<svg[^>]*onload/i.test(html), "no injected svg handler");
    for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
      assert.ok(
        /\bsrc=/.test(tag) || /type="application\/json"/.test(tag),
        `only external or data scripts: ${tag}`,
      );
    }
    assert.ok(
      html.includes("&lt;img") || html.includes("\\u003cimg"),
      "the payload was rendered, escaped",
    );
  } finally {
    await server.close();
  }
});
