import assert from "node:assert/strict";
import { HttpError } from "../../common/errors.ts";
import { readBody, readJson, readText } from "./body.ts";

function gzip(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Response(
    new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new CompressionStream("gzip"),
    ),
  ).bytes();
}

/** A POST whose body is `body` as a stream (no Content-Length) unless it is bytes. */
function post(
  body: BodyInit,
  headers: Record<string, string> = {},
): Request {
  return new Request("http://hookwatch.test/", {
    method: "POST",
    headers,
    body,
  });
}

const LIMITS = { maxBytes: 1 << 20, timeoutMs: 5_000 };

async function rejectsWith(
  promise: Promise<unknown>,
  status: number,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.status, status);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("body - whole, streamed and gzip bodies read alike; the limit applies after inflating", async () => {
  const text = JSON.stringify({ hello: "wörld" });
  const bytes = new TextEncoder().encode(text);
  assert.equal(await readText(post(text), LIMITS), text);
  assert.equal(
    await readText(post(new Blob([bytes]).stream()), LIMITS),
    text,
  );
  const zipped = await gzip(bytes);
  assert.deepEqual(
    await readBody(post(zipped, { "content-encoding": "gzip" }), LIMITS),
    bytes,
  );
  assert.deepEqual(
    await readJson(post(zipped, { "content-encoding": "GZIP " }), LIMITS),
    { hello: "wörld" },
  );
  const bomb = await gzip(new Uint8Array(4 << 20));
  assert.ok(bomb.byteLength < 64 * 1024);
  await rejectsWith(
    readBody(post(bomb, { "content-encoding": "gzip" }), LIMITS),
    413,
    /larger than 1048576 bytes/,
  );
});

Deno.test("body - 413 from Content-Length or the bytes, 400 for bad gzip or UTF-8, 415 for other encodings", async () => {
  const small = { maxBytes: 8, timeoutMs: 5_000 };
  await rejectsWith(readBody(post("123456789"), small), 413, /8 bytes/);
  await rejectsWith(
    readBody(post(new Blob(["123456789"]).stream()), small),
    413,
    /8 bytes/,
  );
  await rejectsWith(
    readBody(
      post(new Uint8Array([1, 2, 3, 4]), { "content-encoding": "gzip" }),
      LIMITS,
    ),
    400,
    /not valid gzip/,
  );
  await rejectsWith(
    readBody(post("x", { "content-encoding": "br" }), LIMITS),
    415,
    /Content-Encoding br is not supported/,
  );
  await rejectsWith(
    readText(post(new Uint8Array([0xff, 0xfe])), LIMITS),
    400,
    /not valid UTF-8/,
  );
  await rejectsWith(readJson(post("{"), LIMITS), 400, /not valid JSON/);
});

Deno.test("body - a body that trickles past the deadline is a 408 that closes the connection", async () => {
  let timer: ReturnType<typeof setInterval> | undefined;
  const trickle = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => controller.enqueue(new Uint8Array([32])), 20);
    },
    cancel: () => clearInterval(timer),
  });
  try {
    await assert.rejects(
      readBody(post(trickle), { maxBytes: 1 << 20, timeoutMs: 150 }),
      (error) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.status, 408);
        assert.deepEqual(error.details.headers, { connection: "close" });
        return true;
      },
    );
  } finally {
    clearInterval(timer);
  }
});
