// Istio's `retries.retryOn`: a comma-separated list of Envoy retry conditions (x-envoy-retry-on and
// x-envoy-retry-grpc-on values) and bare HTTP status codes, which Istio turns into
// `retriable-status-codes` with that list. Parsed here once for both the API's validation (the field path
// in every error) and the proxy's route compiler (proxy/resilience/compile.ts). Pure.

/** Envoy's HTTP retry conditions Shoal implements. */
export const HTTP_RETRY_ON = ['5xx', 'gateway-error', 'reset', 'connect-failure', 'refused-stream', 'retriable-4xx', 'retriable-status-codes'] as const;
/** Envoy's gRPC retry conditions (from grpc-status) and their codes. */
export const GRPC_RETRY_ON: Readonly<Record<string, number>> = { cancelled: 1, 'deadline-exceeded': 4, 'resource-exhausted': 8, unavailable: 14 };

export type HttpRetryOn = (typeof HTTP_RETRY_ON)[number];

/** A parsed retryOn. */
export interface ParsedRetryOn {
  conditions: HttpRetryOn[];
  /** gRPC status codes that are retried. */
  grpc: number[];
  /** Bare status codes (Istio adds `retriable-status-codes` for them). */
  statusCodes: number[];
}

/** Parses `retryOn`; `error` says what is wrong with the first bad entry. */
export function parseRetryOn(v: string): { value?: ParsedRetryOn; error?: string } {
  const out: ParsedRetryOn = { conditions: [], grpc: [], statusCodes: [] };
  for (const raw of v.split(',')) {
    const s = raw.trim();
    if (s === '') return { error: 'empty retry condition' };
    if (/^[0-9]+$/.test(s)) {
      const n = Number(s);
      if (n < 100 || n > 599) return { error: `status code ${s} is not in range 100..599` };
      out.statusCodes.push(n);
      if (!out.conditions.includes('retriable-status-codes')) out.conditions.push('retriable-status-codes');
      continue;
    }
    if ((HTTP_RETRY_ON as readonly string[]).includes(s)) {
      if (!out.conditions.includes(s as HttpRetryOn)) out.conditions.push(s as HttpRetryOn);
      continue;
    }
    if (GRPC_RETRY_ON[s] !== undefined) {
      out.grpc.push(GRPC_RETRY_ON[s]);
      continue;
    }
    return { error: `unknown retry condition ${JSON.stringify(s)}; known: ${[...HTTP_RETRY_ON, ...Object.keys(GRPC_RETRY_ON)].join(', ')} or an HTTP status code` };
  }
  return { value: out };
}
