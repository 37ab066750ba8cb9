/**
 * The one error class every failure the caller can act on is thrown as, by a domain or by a
 * route: it carries the HTTP status (and what the answer needs) so `app.ts` maps every error
 * to an answer in one place, and no route re-wraps another module's error.
 *
 * @module
 */

/** What the answer carries besides the status and the message. */
export interface HttpErrorDetails {
  /** The offending field (dotted path, or a query parameter's name), served as `field`. */
  field?: string;
  /** Seconds, served as `Retry-After`. */
  retryAfter?: number;
  /** Further headers of the answer (`WWW-Authenticate`, `Connection: close`). */
  headers?: Readonly<Record<string, string>>;
}

/** A failure with the status it is answered with (any 4xx or 5xx); subclasses name the domain. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: HttpErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`an HttpError's status is 400–599, not ${status}`);
    }
    this.name = "HttpError";
  }
}
