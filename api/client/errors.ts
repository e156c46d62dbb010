// Client-side failures. A KubeApiError carries the metav1.Status the server answered with (code, reason,
// message, details.causes), so callers branch on `reason` exactly as client-go's apierrors.IsNotFound does.
// Answers that are not a Status (a proxy's HTML page, a connection error) become a Status with a reason
// derived from the HTTP code, as client-go does.

import type { Status } from '../meta.js';

const reasonByCode: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  406: 'NotAcceptable', 409: 'Conflict', 410: 'Expired', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType',
  422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

/** An error answer from the API server, with its Status. */
export class KubeApiError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message || status.reason || `the server responded with HTTP ${status.code}`);
    this.name = 'KubeApiError';
    this.status = status;
  }
  /** HTTP status code. */
  get code(): number {
    return this.status.code;
  }
  /** Kubernetes StatusReason ('NotFound', 'AlreadyExists', 'Invalid', ...). */
  get reason(): string {
    return this.status.reason ?? '';
  }
  /** Field causes of an Invalid error. */
  get causes(): NonNullable<Status['details']>['causes'] {
    return this.status.details?.causes ?? [];
  }
}

/** Build the error for a non-2xx answer: the body's Status when it is one, else one made up from the code. */
export function errorFromResponse(code: number, bodyText: string): KubeApiError {
  try {
    const s = JSON.parse(bodyText) as Status;
    if (s && s.kind === 'Status') return new KubeApiError({ ...s, code: s.code || code });
  } catch {
    // not JSON: fall through
  }
  const reason = reasonByCode[code] ?? (code >= 500 ? 'InternalError' : 'Unknown');
  const text = bodyText.trim().slice(0, 500);
  return new KubeApiError({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason,
    message: text ? `the server responded with HTTP ${code}: ${text}` : `the server responded with HTTP ${code}`,
  });
}

/** True when `e` is a KubeApiError with `reason`. */
export function isApiReason(e: unknown, reason: string): e is KubeApiError {
  return e instanceof KubeApiError && e.reason === reason;
}

/** True for 404 NotFound. */
export const isNotFound = (e: unknown): e is KubeApiError => e instanceof KubeApiError && e.code === 404;
/** True for 409 AlreadyExists. */
export const isAlreadyExists = (e: unknown): e is KubeApiError => isApiReason(e, 'AlreadyExists');
/** True for 409 Conflict (a stale resourceVersion). */
export const isConflict = (e: unknown): e is KubeApiError => isApiReason(e, 'Conflict');
/** True for 410 Gone/Expired: the resourceVersion is too old, re-list. */
export const isExpired = (e: unknown): e is KubeApiError => e instanceof KubeApiError && e.code === 410;
