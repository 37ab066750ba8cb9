/**
 * `GET /static/…`: CSS, icons and the hashed client bundles, served by Hono's `serveStatic`.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { serveStatic } from "hono/deno";
import { fileURLToPath } from "node:url";

/** The repository root: `/static/…` paths are files under it. */
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where `scripts/build.ts` writes hashed bundles and `manifest.json`. */
export const BUILD_DIR: string = `${ROOT}static/build/`;

/** A bundle whose name carries its content hash: it never changes. */
const HASHED = /^\/static\/build\/[^/]*-[0-9a-f]{12,}\.[a-z]+$/;

/**
 * Cross-origin isolation (for measureUserAgentSpecificMemory), on the page and every file it
 * loads (the worker script needs COEP itself); the CSP and the other hardening headers come
 * from `edge/answer_headers.ts`, like every answer's.
 */
export function isolate(c: Context): void {
  c.header("cross-origin-opener-policy", "same-origin");
  c.header("cross-origin-embedder-policy", "require-corp");
  c.header("cross-origin-resource-policy", "same-origin");
}

/**
 * Files under `static/` (content type from the name): hashed bundles immutable for a year,
 * everything else revalidated (`no-cache`); a missing file is the app's 404.
 */
export function staticRoutes(): Hono {
  const app = new Hono();
  app.get(
    "/static/*",
    serveStatic({
      root: ROOT,
      onFound: (_path, c) => {
        isolate(c);
        c.header(
          "cache-control",
          HASHED.test(c.req.path)
            ? "public, max-age=31536000, immutable"
            : "no-cache",
        );
      },
    }),
  );
  return app;
}
