import assert from "node:assert/strict";
import { startApp } from "../tests/helpers/app.ts";

// The hashed bundles (immutable, the worker's COEP) are checked in Chromium by
// tests/dashboard_test.ts, which builds them.
Deno.test("static - files under static/ with their type, revalidated, cross-origin isolated; nothing outside", async () => {
  const server = await startApp();
  try {
    for (
      const [path, type] of [
        ["/static/dashboard.css", /^text\/css/],
        ["/static/icon.svg", /^image\/svg\+xml/],
      ] as const
    ) {
      const res = await server.fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.ok((await res.bytes()).byteLength > 0);
      assert.match(res.headers.get("content-type") ?? "", type);
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.equal(
        res.headers.get("cross-origin-embedder-policy"),
        "require-corp",
      );
      assert.equal(
        res.headers.get("cross-origin-resource-policy"),
        "same-origin",
      );
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    }
    for (
      const path of [
        "/static/nope.css",
        "/static/%2e%2e/deno.json",
        "/static/build/%2e%2e/%2e%2e/deno.json",
      ]
    ) {
      const res = await server.fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match((await res.json()).error, /no route/);
    }
  } finally {
    await server.close();
  }
});
