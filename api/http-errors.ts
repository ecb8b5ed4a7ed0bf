import { AppError, messageOf } from '../errors.js';

/** One item of a pydantic 2.6 validation error, keys in pydantic's order. */
export interface ValidationIssue {
  readonly type: string;
  readonly loc: readonly [string, string];
  readonly msg: string;
  readonly input: string;
  readonly ctx?: Readonly<Record<string, number | string>>;
  readonly url: string;
}

/** 422: the request's parameters are invalid; `issues` become `{"detail": [...]}`. */
export class RequestValidationError extends AppError {
  readonly code = 'REQUEST_INVALID';

  constructor(readonly issues: readonly ValidationIssue[]) {
    super(`Invalid request: ${issues.map((issue) => `${issue.loc.join('.')}: ${issue.msg}`).join('; ')}`);
  }
}

/** 400: a request HTTP itself calls malformed, which Node's parser let through. */
export class BadRequestError extends AppError {
  readonly code = 'BAD_REQUEST';
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
}

export class MethodNotAllowedError extends AppError {
  readonly code = 'METHOD_NOT_ALLOWED';

  constructor(readonly allow: readonly string[]) {
    super(`Method not allowed; allowed: ${allow.join(', ')}`);
  }
}

/** 401: credentials missing or wrong; never says which. */
export class UnauthorizedError extends AppError {
  readonly code = 'UNAUTHORIZED';

  constructor(readonly realm: string) {
    super('Not authenticated');
  }
}

/** 429: the client's token bucket is empty. */
export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';

  constructor(readonly retryAfterSeconds: number) {
    super(`Rate limited; retry after ${retryAfterSeconds} s`);
  }
}

/** 503 while the server drains for a shutdown. */
export class ShuttingDownError extends AppError {
  readonly code = 'SHUTTING_DOWN';
}

/**
 * The store failed while a streamed page was being sent, after its 200 and first
 * rows: too late for an error answer. The client's connection is closed before the
 * page's end, so no client takes the rows it got for a whole page.
 */
export class PageCutShortError extends AppError {
  readonly code = 'PAGE_CUT_SHORT';

  constructor(cause: unknown) {
    super(`the store failed after the page's answer began: ${messageOf(cause)}`, { cause });
  }
}
