import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";

/** 413 with a JSON error once a body passes `maxSize` bytes. */
export function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new HTTPException(413, {
        message: `body is larger than ${maxSize} bytes`,
      });
    },
  });
}

/** 400 naming a bad query parameter (or body part): `<name> <message>`. */
export function badParam(name: string, message: string): never {
  throw new HTTPException(400, { message: `${name} ${message}` });
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The body as text; 400 when it is not UTF-8. */
export async function readText(c: Context): Promise<string> {
  const bytes = await c.req.arrayBuffer();
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HTTPException(400, { message: "body is not valid UTF-8" });
  }
}

/** Parses JSON without echoing the input back (error messages never carry payloads). */
export function parseJson(text: string, what = "body"): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec(String(error))?.[1];
    throw new HTTPException(400, {
      message: `${what} is not valid JSON${
        at === undefined ? "" : ` (at position ${at})`
      }`,
    });
  }
}
