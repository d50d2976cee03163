/** Errors the emulator answers with, shaped as the IVS Real-Time service model shapes them. */

export type ErrorType =
  | "ValidationException"
  | "ResourceNotFoundException"
  | "ConflictException"
  | "ServiceQuotaExceededException"
  | "AccessDeniedException"
  | "InternalServerException"
  // Not in the model, but answered by the service (or by its front end):
  | "ThrottlingException"
  | "ServiceUnavailableException"
  | "SerializationException"
  | "UnknownOperationException"
  | "RequestEntityTooLargeException";

const STATUS: Record<ErrorType, number> = {
  ValidationException: 400,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  InternalServerException: 500,
  ThrottlingException: 429,
  ServiceUnavailableException: 503,
  SerializationException: 400,
  UnknownOperationException: 404,
  RequestEntityTooLargeException: 413,
};

export class ApiError extends Error {
  readonly type: ErrorType;
  readonly status: number;

  constructor(type: ErrorType, message: string) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = STATUS[type];
  }
}

export const validationError = (message: string): ApiError => new ApiError("ValidationException", message);
export const notFound = (message: string): ApiError => new ApiError("ResourceNotFoundException", message);
export const conflict = (message: string): ApiError => new ApiError("ConflictException", message);
export const quotaExceeded = (message: string): ApiError => new ApiError("ServiceQuotaExceededException", message);

/**
 * The JSON error body. The model's error shapes carry `exceptionMessage`; we also send `message` so that the SDK's
 * `err.message` is informative (the SDK only reads `message`/`Message` for it and ignores unknown members).
 */
export function errorBody(message: string): { exceptionMessage: string; message: string } {
  return { exceptionMessage: message, message };
}
