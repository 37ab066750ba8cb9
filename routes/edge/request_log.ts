/**
 * Logs every `5xx` answer (warn for `503`, error otherwise) with `request_id`, `method`, `path`,
 * `status`, `duration_ms` and the error behind it; with `LOG_LEVEL=debug`, every request.
 * Never the body, the query string or a header.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { errorFields, log, type LogFields } from "../../lib/base/log.ts";
import { asStoreUnavailable } from "../../lib/store/store_errors.ts";

/** The request log middleware; mount it right after `answerHeaders()`, which sets the request id. */
export function requestLog(): MiddlewareHandler {
  return async function requestLog(c, next) {
    const start = performance.now();
    await next();
    const status = c.res.status;
    if (status < 500 && !log.enabled("debug")) return;
    const fields: LogFields = {
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - start) * 1000) / 1000,
    };
    if (c.error) {
      const unavailable = asStoreUnavailable(c.error);
      Object.assign(
        fields,
        unavailable
          ? { error: unavailable.message }
          : errorFields(c.error, { stack: status === 500 }),
      );
    }
    if (status < 500) log.debug("request", fields);
    else if (status === 503) log.warn("request failed", fields);
    else log.error("request failed", fields);
  };
}
