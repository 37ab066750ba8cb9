/**
 * The one body reader: every route that takes a body (ingest, OTLP, decisions, the inbox,
 * client metrics, sign-in) reads it here, with its size limit and the one deadline, so a
 * client that trickles its body (slow-loris) or sends too much is cut off the same way
 * everywhere. Plain functions: ingest's hot path calls them directly.
 *
 * @module
 */
import { HttpError } from "../../common/errors.ts";

/** How much of a body is read, and for how long. */
export interface BodyLimits {
  /** Most bytes, after inflating: 413 beyond. */
  maxBytes: number;
  /** The body must be whole within this many milliseconds of the read starting: 408 after. */
  timeoutMs: number;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `body is larger than ${maxBytes} bytes`);
}

function expired(timeoutMs: number): HttpError {
  return new HttpError(
    408,
    `request body not received within ${timeoutMs} ms`,
    { headers: { connection: "close" } },
  );
}

/**
 * `promise`, or the 408 of a `timeoutMs` deadline once `leftMs` passed (the timer is cleared
 * either way).
 */
function withDeadline<T>(
  promise: Promise<T>,
  leftMs: number,
  timeoutMs = leftMs,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(expired(timeoutMs)), leftMs);
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function readChunks(
  stream: ReadableStream<Uint8Array>,
  { maxBytes, timeoutMs }: BodyLimits,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const deadline = Date.now() + timeoutMs;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await withDeadline(
        reader.read(),
        Math.max(0, deadline - Date.now()),
        timeoutMs,
      );
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * The body of `req`, inflated when `Content-Encoding` is gzip: 413 beyond `maxBytes` (at once
 * from `Content-Length`), 408 when it is not whole within `timeoutMs`, 400 for a corrupt gzip
 * stream, 415 for another encoding.
 */
export function readBody(
  req: Request,
  limits: BodyLimits,
): Promise<Uint8Array<ArrayBuffer>> {
  const headers = req.headers;
  const coding = headers.get("content-encoding");
  const declared = headers.get("content-length");
  if (declared !== null && !headers.has("transfer-encoding")) {
    if (Number(declared) > limits.maxBytes) {
      return Promise.reject(tooLarge(limits.maxBytes));
    }
    // The common case, ingest's: the whole body at once, raced with the deadline (no async
    // frame of its own: this is the hot path).
    if (coding === null) return withDeadline(req.bytes(), limits.timeoutMs);
  }
  return readStream(req, coding?.trim().toLowerCase() ?? "", limits);
}

async function readStream(
  req: Request,
  coding: string,
  limits: BodyLimits,
): Promise<Uint8Array<ArrayBuffer>> {
  if (coding === "" || coding === "identity") {
    return req.body === null
      ? new Uint8Array()
      : await readChunks(req.body, limits);
  }
  if (coding !== "gzip") {
    await req.body?.cancel();
    throw new HttpError(
      415,
      `Content-Encoding ${coding} is not supported (gzip or none)`,
    );
  }
  if (req.body === null) return new Uint8Array();
  const inflating = req.body.pipeThrough(
    new DecompressionStream("gzip") as unknown as TransformStream<
      Uint8Array,
      Uint8Array
    >,
  );
  try {
    return await readChunks(inflating, limits);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(
      400,
      `body is not valid gzip: ${(error as Error).message}`,
    );
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The body as UTF-8 text ({@linkcode readBody}); 400 when it is not UTF-8. */
export async function readText(
  req: Request,
  limits: BodyLimits,
): Promise<string> {
  const bytes = await readBody(req, limits);
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HttpError(400, "body is not valid UTF-8");
  }
}

/** Parses JSON without echoing the input back (error messages never carry payloads). */
export function parseJson(text: string, what = "body"): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec(String(error))?.[1];
    throw new HttpError(
      400,
      `${what} is not valid JSON${
        at === undefined ? "" : ` (at position ${at})`
      }`,
    );
  }
}

/** The body parsed as JSON ({@linkcode readText}, {@linkcode parseJson}). */
export async function readJson(
  req: Request,
  limits: BodyLimits,
): Promise<unknown> {
  return parseJson(await readText(req, limits));
}
