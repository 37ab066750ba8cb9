import type { Context } from "hono";
import { HttpError } from "../common/errors.ts";
import { bodyLimit } from "hono/body-limit";

function tooLarge(maxSize: number): never {
  throw new HttpError(413, `body is larger than ${maxSize} bytes`);
}

/** 413 with a JSON error once a body passes `maxSize` bytes. */
export function limitBody(maxSize: number) {
  return bodyLimit({ maxSize, onError: () => tooLarge(maxSize) });
}

/** 400 naming a bad query parameter (or body part): `<name> <message>`. */
export function badParam(name: string, message: string): never {
  throw new HttpError(400, `${name} ${message}`, { field: name });
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array | ArrayBuffer): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HttpError(400, "body is not valid UTF-8");
  }
}

function expired(timeoutMs: number): HttpError {
  return new HttpError(
    408,
    `request body not received within ${timeoutMs} ms`,
    { headers: { connection: "close" } },
  );
}

/** `promise`, or a 408 once `timeoutMs` passed (the timer is cleared either way). */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(expired(timeoutMs)), timeoutMs);
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * The body of `req` as UTF-8 text, the body limit and deadline applied in one pass: 413 beyond
 * `maxSize` bytes (at once from `Content-Length`), 408 when it is not whole within `timeoutMs`
 * (a slow-loris client cannot hold the request), 400 when it is not UTF-8.
 */
export async function readBody(
  req: Request,
  maxSize: number,
  timeoutMs: number,
): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && !req.headers.has("transfer-encoding")) {
    if (Number(declared) > maxSize) tooLarge(maxSize);
    return decode(await withDeadline(req.arrayBuffer(), timeoutMs));
  }
  if (req.body === null) return "";
  const reader = req.body.getReader();
  const deadline = Date.now() + timeoutMs;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await withDeadline(
        reader.read(),
        Math.max(0, deadline - Date.now()),
      ).catch((error) => {
        throw error instanceof HttpError ? expired(timeoutMs) : error;
      });
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) tooLarge(maxSize);
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
  return decode(bytes);
}

/** The body as text; 400 when it is not UTF-8. */
export async function readText(c: Context): Promise<string> {
  return decode(await c.req.arrayBuffer());
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
