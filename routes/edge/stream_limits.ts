/**
 * Open event streams, counted and bounded: in all and per client address.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { HttpError } from "../../common/errors.ts";
import { getConnInfo } from "hono/deno";

/** Limits for {@linkcode streamLimits}. */
export interface StreamLimits {
  /** Most open streams in all: 503 beyond. */
  maxClients: number;
  /** Most open streams from one address: 429 beyond. */
  maxPerIp: number;
  /** Seconds a refused client should wait (`Retry-After`). */
  retryAfterSeconds?: number;
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by Deno.serve (app.request in tests)
  }
}

/**
 * Counts open event streams and refuses new ones over the global (503) or per-address (429)
 * limit, with `Retry-After`. A stream counts until it calls `c.get("streamRelease")` (when
 * its body ends, errors or is cancelled); an answer without a stream body frees it at once.
 */
export function streamLimits(limits: StreamLimits): MiddlewareHandler {
  let open = 0;
  const perIp = new Map<string, number>();
  const retryAfter = limits.retryAfterSeconds ?? 5;
  return async function streamLimits(c, next) {
    const ip = clientAddress(c);
    const mine = perIp.get(ip) ?? 0;
    if (open >= limits.maxClients) {
      throw new HttpError(
        503,
        `too many open streams (${limits.maxClients}); retry in ${retryAfter} s`,
        { retryAfter },
      );
    }
    if (mine >= limits.maxPerIp) {
      throw new HttpError(
        429,
        `too many open streams from one address (${limits.maxPerIp}); retry in ${retryAfter} s`,
        { retryAfter },
      );
    }
    open++;
    perIp.set(ip, mine + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      open--;
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left === 0) perIp.delete(ip);
      else perIp.set(ip, left);
    };
    // The stream calls it when it ends, errs or is cancelled (no wrapper stream per client).
    c.set("streamRelease", release);
    try {
      await next();
    } catch (error) {
      release();
      throw error;
    }
    if (!c.res.ok || c.res.body === null) release();
  };
}

declare module "hono" {
  interface ContextVariableMap {
    /** Set by {@linkcode streamLimits}: the open stream's slot, to free once it ends. */
    streamRelease?: () => void;
  }
}
