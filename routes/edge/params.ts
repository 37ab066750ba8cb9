/**
 * Request parameters: the one 400 that names a bad one (`{ error: "<name> …", field }`), the
 * parsers every route builds its parameters from (limits from `LIMITS` in common/events.ts),
 * and the `hono/validator` middleware that runs them on a query or a path.
 *
 * @module
 */
import { validator } from "hono/validator";
import { HttpError } from "../../common/errors.ts";
import { LIMITS, validateHookEventType } from "../../common/events.ts";

/** 400 naming a bad parameter (or body field) `name`: `{ error: "<name> <message>", field }`. */
export function badParam(name: string, message: string): never {
  throw new HttpError(400, `${name} ${message}`, { field: name });
}

/** Parses one parameter: its raw value (undefined when absent) to its value, or {@linkcode badParam}. */
export type Param<T> = (raw: string | undefined, name: string) => T;

const WHOLE = /^-?\d+$/;

function sized(raw: string, name: string, max: number, hint: string): string {
  if (raw.length === 0 || raw.length > max) {
    badParam(name, `must be 1 to ${max} characters${hint}`);
  }
  return raw;
}

/** The parsers routes build their parameters from. */
export const param = {
  /** A positive whole number, capped at `page.max`; `page.default` when absent. */
  limit(page: { default: number; max: number }): Param<number> {
    return (raw, name) => {
      if (raw === undefined) return page.default;
      const n = Number(raw);
      if (!WHOLE.test(raw) || n < 1) {
        badParam(name, "must be a positive integer");
      }
      return Math.min(n, page.max);
    };
  },

  /** 1 to `max` characters (`hint` added to the message); undefined when absent. */
  text(max: number = LIMITS.idLength, hint = ""): Param<string | undefined> {
    return (raw, name) =>
      raw === undefined ? undefined : sized(raw, name, max, hint);
  },

  /** A path segment naming something (a session): 1 to `LIMITS.idLength` characters. */
  key(raw: string | undefined, name: string): string {
    return sized(raw ?? "", name, LIMITS.idLength, "");
  },

  /** One of `values` (`message` says which); undefined when absent. */
  oneOf<const T extends string>(
    values: readonly T[],
    message = `must be one of ${values.join(", ")}`,
  ): Param<T | undefined> {
    return (raw, name) => {
      if (raw !== undefined && !(values as readonly string[]).includes(raw)) {
        badParam(name, message);
      }
      return raw as T | undefined;
    };
  },

  /** A whole number from `min` to `max` (`message` says what); undefined when absent. */
  integer(
    min: number,
    max: number = Number.MAX_SAFE_INTEGER,
    message = `must be a whole number from ${min} to ${max}`,
  ): Param<number | undefined> {
    return (raw, name) => {
      if (raw === undefined) return undefined;
      const n = Number(raw);
      if (!WHOLE.test(raw) || n < min || n > max) badParam(name, message);
      return n;
    };
  },

  /** An id in a path or a query: a positive whole number. */
  id(raw: string | undefined, name: string): number {
    const n = Number(raw);
    if (
      raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) ||
      n < 1
    ) {
      badParam(name, "must be a positive integer");
    }
    return n;
  },

  /** A hook event type (`hook_event_type`'s own rule); undefined when absent. */
  hookType(raw: string | undefined, name: string): string | undefined {
    return raw === undefined ? undefined : validateHookEventType(raw, name);
  },

  /** A bucket: `1`, `true` or `priority` for priority, `0`, `false` or `regular` for regular. */
  priority(raw: string | undefined, name: string): 0 | 1 | undefined {
    if (raw === undefined) return undefined;
    if (raw === "1" || raw === "true" || raw === "priority") return 1;
    if (raw === "0" || raw === "false" || raw === "regular") return 0;
    badParam(name, "must be 1, 0, true, false, priority or regular");
  },
};

type Params = Record<string, Param<unknown>>;

/** What the parsers of `P` give. */
export type Parsed<P extends Params> = { [K in keyof P]: ReturnType<P[K]> };

/** Options of {@linkcode query}. */
export interface ParamOptions {
  /** A parameter not named is a 400 (the route takes nothing else). */
  only?: boolean;
  /** An empty value counts as absent (a plain HTML form sends every field). */
  blankIsAbsent?: boolean;
}

function parseAll<P extends Params>(
  values: Record<string, string | string[]>,
  params: P,
  { only = false, blankIsAbsent = false }: ParamOptions,
): Parsed<P> {
  if (only) {
    for (const name of Object.keys(values)) {
      if (!Object.hasOwn(params, name)) {
        badParam(name, `is not a filter (${Object.keys(params).join(", ")})`);
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [name, parse] of Object.entries(params)) {
    const given = values[name];
    // A repeated parameter: the first one counts.
    let raw: string | undefined = Array.isArray(given) ? given[0] : given;
    if (blankIsAbsent && raw === "") raw = undefined;
    out[name] = parse(raw, name);
  }
  return out as Parsed<P>;
}

/** `hono/validator` middleware: the query, parsed by `params`; read it with `c.req.valid("query")`. */
export function query<P extends Params>(params: P, options: ParamOptions = {}) {
  return validator("query", (values) => parseAll(values, params, options));
}

/** `hono/validator` middleware: the path's parameters, parsed by `params` (`c.req.valid("param")`). */
export function pathParams<P extends Params>(params: P) {
  return validator(
    "param",
    (values: Record<string, string>) => parseAll(values, params, {}),
  );
}
