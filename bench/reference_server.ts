/**
 * The same-run reference for ingest ratios: a bare `Deno.serve` that does what any JSON API
 * does per request (read the body, parse it, answer JSON) and nothing of hookwatch. Dividing
 * hookwatch's throughput by this one's, measured in the same minute, cancels most of what a
 * shared, noisy machine does to absolute numbers.
 *
 * `deno run --allow-net bench/reference_server.ts` prints `reference listening on URL`.
 *
 * @module
 */
let id = 0;
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) =>
    console.log(`reference listening on http://${hostname}:${port}`),
}, async (request) => {
  const body = JSON.parse(await request.text());
  const events = Array.isArray(body) ? body : [body];
  return Response.json({
    count: events.length,
    ids: events.map(() => ++id),
  });
});
