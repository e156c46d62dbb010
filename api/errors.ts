// The error type every Shoal process uses for API failures. An ApiError carries the Kubernetes
// metav1.Status it turns into; HTTP handlers serialize it in exactly one place (the API server's
// error handler). Codes follow Kubernetes' StatusReason names; the list is documented in api/README.md.

import { type FieldError, causeReasonOf, formatFieldError } from './field.js';
import type { Status, StatusCause } from './meta.js';

/** Kubernetes StatusReason values, with their HTTP codes. */
export const reasons = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;

/** One of Kubernetes' StatusReason strings. */
export type Reason = keyof typeof reasons;

/** Identifies the object an error is about (Status.details). */
export interface ErrorTarget {
  group?: string;
  kind?: string;
  name?: string;
}

/** An API failure that knows its Kubernetes Status. */
export class ApiError extends Error {
  readonly reason: Reason;
  readonly code: number;
  readonly target: ErrorTarget;
  readonly causes: StatusCause[];

  constructor(reason: Reason, message: string, target: ErrorTarget = {}, causes: StatusCause[] = []) {
    super(message);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = reasons[reason];
    this.target = target;
    this.causes = causes;
  }

  /** The metav1.Status body for this error. */
  toStatus(): Status {
    const details: NonNullable<Status['details']> = {};
    if (this.target.name !== undefined) details.name = this.target.name;
    if (this.target.group !== undefined) details.group = this.target.group;
    if (this.target.kind !== undefined) details.kind = this.target.kind;
    if (this.causes.length) details.causes = this.causes;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(Object.keys(details).length ? { details } : {}),
      code: this.code,
    };
  }
}

/** `<resource>[.<group>] "<name>"`, as Kubernetes names objects in messages. */
function qualified(t: ErrorTarget & { resource?: string }): string {
  const r = t.resource ?? (t.kind ?? '').toLowerCase();
  return t.group ? `${r}.${t.group}` : r;
}

/** Constructors matching Kubernetes' apierrors.NewXxx helpers and their messages. */
export const errors = {
  notFound: (resource: string, group: string, name: string) =>
    new ApiError('NotFound', `${qualified({ resource, group })} "${name}" not found`, { group, kind: resource, name }),
  alreadyExists: (resource: string, group: string, name: string) =>
    new ApiError('AlreadyExists', `${qualified({ resource, group })} "${name}" already exists`, { group, kind: resource, name }),
  conflict: (resource: string, group: string, name: string, why: string) =>
    new ApiError('Conflict', `Operation cannot be fulfilled on ${qualified({ resource, group })} "${name}": ${why}`, {
      group,
      kind: resource,
      name,
    }),
  /** 422 with every field error as a cause. */
  invalid: (kind: string, group: string, name: string, errs: FieldError[]) =>
    new ApiError(
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${errs.length === 1 ? formatFieldError(errs[0]!) : `[${errs.map(formatFieldError).join(', ')}]`}`,
      { group, kind, name },
      // a cause's message is the error body without the field (kube's ErrorBody): kubectl prints `field: message`
      errs.map((e) => ({ reason: causeReasonOf(e), message: formatFieldError(e).slice(e.field ? e.field.length + 2 : 0), field: e.field })),
    ),
  badRequest: (message: string, causes: StatusCause[] = []) => new ApiError('BadRequest', message, {}, causes),
  gone: (message: string) => new ApiError('Expired', message),
  unauthorized: (message = 'Unauthorized') => new ApiError('Unauthorized', message),
  forbidden: (message: string) => new ApiError('Forbidden', message),
  methodNotAllowed: (message: string) => new ApiError('MethodNotAllowed', message),
  notAcceptable: (message: string) => new ApiError('NotAcceptable', message),
  unsupportedMediaType: (contentType: string) =>
    new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${JSON.stringify(contentType)})`),
  tooLarge: (message = 'Request entity too large: limit is 3145728') => new ApiError('RequestEntityTooLarge', message),
  internal: (message: string) => new ApiError('InternalError', `Internal error occurred: ${message}`),
  timeout: (message: string) => new ApiError('Timeout', message),
};

/** True for an ApiError with the given reason. */
export function isReason(err: unknown, reason: Reason): err is ApiError {
  return err instanceof ApiError && err.reason === reason;
}
