// The traffic policy of one route and the pure decisions an exchange makes with it, shared by every
// protocol module (proxy/http1 now, proxy/http2 next): should this attempt's outcome be retried (Envoy's
// retry conditions), how long to back off (Envoy's fully jittered exponential backoff, 25 ms base, 10×
// cap), and which response flag describes how the exchange ended. No I/O and no clock: the caller brings
// the outcome, the attempt number and the random source.
import type { ParsedRetryOn } from '../../api/kinds/istio/retry-on.js';

/** Retry conditions, compiled for quick tests. */
export interface RetryOn {
  fiveXx: boolean;
  gatewayError: boolean;
  reset: boolean;
  connectFailure: boolean;
  refusedStream: boolean;
  retriable4xx: boolean;
  /** `retriable-status-codes` (bare codes in Istio's retryOn). */
  statusCodes: ReadonlySet<number>;
  /** gRPC status codes (cancelled 1, deadline-exceeded 4, resource-exhausted 8, unavailable 14). */
  grpc: ReadonlySet<number>;
}

/** A route's retry policy (VirtualService `retries`, or Istio's default). */
export interface RetryPolicy {
  /** Retries after the first attempt (Istio's `attempts`). */
  attempts: number;
  /** 0: no per-try timeout. */
  perTryTimeoutMs: number;
  on: RetryOn;
  /** Retry on another endpoint than the ones already tried (Istio's default: true). */
  ignorePreviousHosts: boolean;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** VirtualService `fault`: a delay and/or an abort, each on a percentage of requests. */
export interface FaultPolicy {
  delay?: { ms: number; percent: number };
  /** `grpcStatus` set: answered as gRPC (HTTP 200, grpc-status). */
  abort?: { status: number; grpcStatus?: number; percent: number };
}

/** One mirror destination (VirtualService `mirror` + `mirrorPercentage`, or an entry of `mirrors`). */
export interface MirrorPolicy {
  /** `outbound|port|subset|host`. */
  cluster: string;
  percent: number;
}

/** VirtualService `corsPolicy`, compiled. */
export interface CorsPolicy {
  allowOrigin: (origin: string) => boolean;
  allowMethods: string;
  allowHeaders: string;
  exposeHeaders: string;
  /** Seconds as text ('' when unset). */
  maxAge: string;
  allowCredentials: boolean;
}

/** A route's policy for the exchange: its overall timeout and retries (and what the fault, mirror and cors parts read). */
export interface RoutePolicy {
  /** 0: none (Istio's default: disabled). */
  timeoutMs: number;
  retry: RetryPolicy | null;
  fault?: FaultPolicy;
  mirrors?: readonly MirrorPolicy[];
  cors?: CorsPolicy;
}

/** How one attempt ended. */
export type AttemptOutcome =
  | { kind: 'response'; status: number; grpcStatus?: number }
  | { kind: 'connect-failure' }
  | { kind: 'reset' }
  | { kind: 'refused-stream' }
  | { kind: 'per-try-timeout' }
  | { kind: 'protocol-error' };

/** Builds RetryOn from a parsed retryOn string. */
export function retryOnOf(p: ParsedRetryOn): RetryOn {
  const has = (c: string) => (p.conditions as string[]).includes(c);
  return Object.freeze({
    fiveXx: has('5xx'), gatewayError: has('gateway-error'), reset: has('reset'), connectFailure: has('connect-failure'),
    refusedStream: has('refused-stream'), retriable4xx: has('retriable-4xx'),
    statusCodes: new Set(has('retriable-status-codes') ? p.statusCodes : []), grpc: new Set(p.grpc),
  });
}

/** Istio's default when a route sets no `retries`: 2 retries on connect-failure, refused-stream, unavailable, cancelled, 503. */
export const ISTIO_DEFAULT_RETRY: RetryPolicy = Object.freeze({
  attempts: 2, perTryTimeoutMs: 0, ignorePreviousHosts: true, backoffBaseMs: 25, backoffMaxMs: 250,
  on: retryOnOf({ conditions: ['connect-failure', 'refused-stream', 'retriable-status-codes'], grpc: [14, 1], statusCodes: [503] }),
});

/** The route policy when nothing is configured. */
export const DEFAULT_ROUTE_POLICY: RoutePolicy = Object.freeze({ timeoutMs: 0, retry: ISTIO_DEFAULT_RETRY });

/** Whether `o` is retriable under `on` (Envoy's RetryStateImpl::wouldRetryFromHeaders / FromReset). */
export function retriable(on: RetryOn, o: AttemptOutcome): boolean {
  switch (o.kind) {
    case 'response': {
      const s = o.status;
      if (o.grpcStatus !== undefined && on.grpc.has(o.grpcStatus)) return true;
      if (on.fiveXx && s >= 500 && s <= 599) return true;
      if (on.gatewayError && (s === 502 || s === 503 || s === 504)) return true;
      if (on.retriable4xx && s === 409) return true;
      return on.statusCodes.has(s);
    }
    case 'connect-failure': return on.connectFailure || on.fiveXx || on.gatewayError || on.reset;
    case 'refused-stream': return on.refusedStream || on.fiveXx || on.reset;
    case 'reset': case 'protocol-error': return on.fiveXx || on.gatewayError || on.reset;
    case 'per-try-timeout': return on.fiveXx || on.gatewayError || on.reset;
  }
}

/** Envoy's jittered exponential backoff before retry number `retry` (1-based): uniform in [0, min(max, base·2^(retry-1))). */
export function backoffMs(p: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffMaxMs'>, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(p.backoffMaxMs, p.backoffBaseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

/** What a failed attempt answers when it is the last one: status, Envoy's response flag and body reason. */
export function localFailure(o: Exclude<AttemptOutcome, { kind: 'response' }>, connectReason = ''): { status: number; flag: string; reason: string } {
  switch (o.kind) {
    case 'connect-failure': return { status: 503, flag: 'UF', reason: `connection failure${connectReason ? `, transport failure reason: ${connectReason}` : ''}` };
    case 'refused-stream': return { status: 503, flag: 'UC', reason: 'remote refused stream reset' };
    case 'reset': return { status: 503, flag: 'UC', reason: 'connection termination' };
    case 'protocol-error': return { status: 502, flag: 'UPE', reason: 'protocol error' };
    case 'per-try-timeout': return { status: 504, flag: 'UT', reason: '' };
  }
}

/** Envoy's response flags in its enum order (the order its access log prints them in). */
const FLAG_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM'];

/** Envoy's response flags, joined as its access log prints them (`-` for none). */
export function flagString(flags: Iterable<string>): string {
  const s = [...new Set(flags)].sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b)).join(',');
  return s === '' ? '-' : s;
}

/** Istio's shadow host: `-shadow` after the host name, before any port. */
export function shadowHost(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(host);
  return m ? `${m[1]}-shadow${m[2] ?? ''}` : `${host}-shadow`;
}

/** `grpc-status` of a trailers-only response head, as `{grpcStatus}` (empty when absent). */
export function grpcStatusOf(headers: readonly string[]): { grpcStatus?: number } {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'grpc-status') {
    const n = Number(headers[i + 1]);
    return Number.isInteger(n) ? { grpcStatus: n } : {};
  }
  return {};
}
