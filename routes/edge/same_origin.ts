/**
 * Cross-site refusal for the routes that change something on a person's behalf.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HttpError } from "../../common/errors.ts";

/**
 * Refuses requests a browser sent from another site (a form or script on a page elsewhere
 * riding on the sign-in cookie): `Sec-Fetch-Site` other than `same-origin` or `none`, or an
 * `Origin` that is not this server's. Scripts and curl send neither and pass (they need the
 * token like every route).
 */
export function sameOriginOnly(): MiddlewareHandler {
  return async function sameOriginOnly(c, next) {
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && site !== "same-origin" && site !== "none") {
      throw new HttpError(
        403,
        `cross-site request refused (Sec-Fetch-Site: ${site})`,
      );
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && origin !== new URL(c.req.url).origin) {
      throw new HttpError(
        403,
        "cross-site request refused (Origin is not this server)",
      );
    }
    await next();
  };
}
