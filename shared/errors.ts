// Every error a request can end in, as a class meant for `instanceof`. Mapped to HTTP in one place
// (shared/http/middlewares/problem-documents.ts); use cases throw these and know nothing of HTTP events.

export interface FieldError {
  /** JSON pointer into the request, e.g. `/attributes/displayName` or `/query/limit`. */
  path: string;
  message: string;
}

export abstract class ProblemError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  abstract readonly title: string;
  /** Extra members of the problem document (e.g. `until` for bans). */
  readonly extensions: Record<string, unknown> = {};
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string> = {};

  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends ProblemError {
  readonly status = 400;
  readonly code = "validation_failed";
  readonly title = "Request is invalid";
  constructor(
    readonly errors: FieldError[],
    detail = errors.map((e) => `${e.path}: ${e.message}`).join("; "),
  ) {
    super(detail);
    this.extensions.errors = errors;
  }
}

export class UnauthorizedError extends ProblemError {
  readonly status = 401;
  readonly code = "unauthorized";
  readonly title = "Authentication required";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.headers["www-authenticate"] = `Bearer error="invalid_token"`;
  }
}

export class ForbiddenError extends ProblemError {
  readonly status = 403;
  readonly code = "forbidden";
  readonly title = "Not allowed";
}

export class BannedError extends ProblemError {
  readonly status = 403;
  readonly code = "banned";
  readonly title = "Banned from this room";
  constructor(readonly until: string) {
    super(`you are banned from this room until ${until}`);
    this.extensions.until = until;
  }
}

export class NotFoundError extends ProblemError {
  readonly status = 404;
  readonly code = "not_found";
  readonly title = "Not found";
}

export class ConflictError extends ProblemError {
  readonly status = 409;
  readonly code = "conflict";
  readonly title = "Conflict";
}

/** The stage holds as many publishers as the room (or IVS) allows; sends Retry-After. */
export class StageFullError extends ProblemError {
  readonly status = 409;
  readonly code = "stage_full";
  readonly title = "Stage full";
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super(detail);
    this.headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

/** The room holds as many participants as its policy allows; sends Retry-After. */
export class RoomFullError extends ProblemError {
  readonly status = 409;
  readonly code = "room_full";
  readonly title = "Room full";
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super(detail);
    this.headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

/** Token exchange asked of a deployment whose tokens come from CreateParticipantToken (TOKEN_MODE=api). */
export class ExchangeUnsupportedError extends ProblemError {
  readonly status = 409;
  readonly code = "exchange_unsupported";
  readonly title = "Token exchange unsupported";
}

/** Token exchange asked for a participant that a moderator (a kick, a ban, a role change) disconnected. */
export class ParticipantDisconnectedError extends ProblemError {
  readonly status = 409;
  readonly code = "participant_disconnected";
  readonly title = "Participant disconnected";
}

export class QuotaExceededError extends ProblemError {
  readonly status = 409;
  readonly code = "quota_exceeded";
  readonly title = "IVS quota exceeded";
}

export class PayloadTooLargeError extends ProblemError {
  readonly status = 413;
  readonly code = "payload_too_large";
  readonly title = "Payload too large";
}

export class UnsupportedMediaTypeError extends ProblemError {
  readonly status = 415;
  readonly code = "unsupported_media_type";
  readonly title = "Unsupported media type";
}

export class IdempotencyMismatchError extends ProblemError {
  readonly status = 422;
  readonly code = "idempotency_mismatch";
  readonly title = "Idempotency-Key reused with a different request";
}

export class RateLimitedError extends ProblemError {
  readonly status = 429;
  readonly code = "rate_limited";
  readonly title = "Too many requests";
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

export class UpstreamUnavailableError extends ProblemError {
  readonly status = 503;
  readonly code = "upstream_unavailable";
  readonly title = "Upstream service unavailable";
  constructor(
    detail: string,
    readonly retryAfterSeconds = 2,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}
