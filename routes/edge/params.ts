/**
 * Request parameters: the one 400 that names a bad one.
 *
 * @module
 */
import { HttpError } from "../../common/errors.ts";

/** 400 naming a bad parameter (or body field) `name`: `{ error: "<name> <message>", field }`. */
export function badParam(name: string, message: string): never {
  throw new HttpError(400, `${name} ${message}`, { field: name });
}
