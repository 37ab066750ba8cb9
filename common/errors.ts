/**
 * The one error class a domain failure the caller can act on is thrown as: it carries the
 * HTTP status (and what the answer needs) so `app.ts` maps every error to an answer in one
 * place, and no route re-wraps another module's error.
 *
 * @module
 */

/** Statuses a domain error is answered with. */
export type ErrorStatus = 400 | 413 | 415 | 429 | 503;

/** What the answer carries besides the message. */
export interface HttpErrorDetails {
  /** The offending field (dotted path), served as `field`. */
  field?: string;
  /** Seconds, served as `Retry-After`. */
  retryAfter?: number;
}

/** A failure with the status it is answered with; subclasses name the domain. */
export class HttpError extends Error {
  constructor(
    readonly status: ErrorStatus,
    message: string,
    readonly details: HttpErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "HttpError";
  }
}
