import assert from "node:assert/strict";
import { startApp } from "../tests/helpers/app.ts";

const ISOLATION = [
  "cache-control",
  "cross-origin-embedder-policy",
  "cross-origin-opener-policy",
  "cross-origin-resource-policy",
  "x-content-type-options",
];

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
      const isolation = Object.fromEntries(
        ISOLATION.map((name) => [name, res.headers.get(name)]),
      );
      assert.deepEqual(isolation, {
        "cache-control": "no-cache",
        "cross-origin-embedder-policy": "require-corp",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "x-content-type-options": "nosniff",
      }, path);
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
