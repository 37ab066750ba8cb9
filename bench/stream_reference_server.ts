/**
 * The same-run references for memory per open stream: `GET /stream` answered by a bare
 * server that sends one snapshot frame of `--snapshot-bytes` and holds the stream open, and
 * nothing of hookwatch:
 *
 * - `--mode serve`: `Deno.serve` with a `ReadableStream` body, as hookwatch answers;
 * - `--mode listen`: raw `Deno.listen` sockets writing the HTTP head and the frame themselves.
 *
 * What `serve` costs per stream is the floor of any stream served through `Deno.serve`.
 * `deno run --allow-net bench/stream_reference_server.ts --mode serve` prints
 * `reference listening on URL`.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mode: { type: "string", default: "serve" },
    "snapshot-bytes": { type: "string", default: "0" },
  },
});
const encoder = new TextEncoder();
const padding = "x".repeat(Number(values["snapshot-bytes"]));
const frame = encoder.encode(
  `id: 0\nevent: snapshot\ndata: {"pad":"${padding}"}\n\n`,
);
const HEAD = "content-type: text/event-stream; charset=utf-8\r\n" +
  "cache-control: no-cache, no-transform\r\n";

if (values.mode === "listen") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  console.log(`reference listening on http://127.0.0.1:${port}`);
  const open = new Set<Deno.Conn>();
  for await (const conn of listener) {
    (async () => {
      await conn.read(new Uint8Array(4096));
      await conn.write(encoder.encode(`HTTP/1.1 200 OK\r\n${HEAD}\r\n`));
      await conn.write(frame);
      open.add(conn);
    })().catch(() => conn.close());
  }
} else {
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ hostname, port }) =>
      console.log(`reference listening on http://${hostname}:${port}`),
  }, () =>
    new Response(
      new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(frame) }),
      {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache, no-transform",
        },
      },
    ));
}
