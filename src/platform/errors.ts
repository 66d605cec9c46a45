/** Domain errors thrown by services; the API maps them to HTTP in one place. */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super(400, 'validation_failed', message, details);
  }
}

export const invalidField = (path: string, message: string) =>
  new ValidationError(`${path}: ${message}`, [{ path, message }]);

export class UnauthorizedError extends DomainError {
  constructor(message = 'authentication required') {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'your role may not do this') {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: ErrorDetail[]) {
    super(409, 'conflict', message, details);
  }
}

export class TooManyRequestsError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'too_many_requests', message);
  }
}

/** A device (camera) answered but refused, e.g. ONVIF authentication failed. */
export class DeviceError extends DomainError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

/** A dependency is down or saturated; with `retryAfterSeconds`, when the client may try again. */
export class UnavailableError extends DomainError {
  constructor(
    message: string,
    code = 'unavailable',
    readonly retryAfterSeconds?: number,
  ) {
    super(503, code, message);
  }
}
