// VirtualService `timeout`/`retries` and DestinationRule `connectionPool`/`outlierDetection` → the frozen
// policies of ./policy.ts and ./cluster.ts, with Istio's defaults and precedence (a subset's trafficPolicy
// over the host's, port-level settings over both at their level). Called by the route compiler
// (../route/compile.ts). Errors name the field path; a bad field leaves the default in place.
import { durationSeconds } from '../../api/kinds/istio/networking.js';
import { parseRetryOn } from '../../api/kinds/istio/retry-on.js';
import { DEFAULT_LIMITS, DEFAULT_OUTLIER, type OutlierPolicy, type PoolLimits } from './cluster.js';
import { DEFAULT_ROUTE_POLICY, ISTIO_DEFAULT_RETRY, retryOnOf, type RetryPolicy, type RoutePolicy } from './policy.js';

const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

function ms(v: unknown, path: string, errs: string[]): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !DURATION.test(v)) {
    errs.push(`${path}: must be a duration such as "1s" or "500ms", got ${JSON.stringify(v)}`);
    return undefined;
  }
  return Math.round(durationSeconds(v) * 1000);
}

/** The policy of one VirtualService http route (`r` is spec.http[i], `path` its field path). */
export function compileRoutePolicy(r: any, path: string, errs: string[]): RoutePolicy {
  const timeoutMs = ms(r?.timeout, `${path}.timeout`, errs) ?? 0;
  const retry = compileRetry(r?.retries, `${path}.retries`, errs);
  if (timeoutMs === 0 && retry === ISTIO_DEFAULT_RETRY) return DEFAULT_ROUTE_POLICY;
  return Object.freeze({ timeoutMs, retry });
}

function compileRetry(rt: any, path: string, errs: string[]): RetryPolicy | null {
  if (rt === undefined || rt === null) return ISTIO_DEFAULT_RETRY;
  const attempts = rt.attempts ?? ISTIO_DEFAULT_RETRY.attempts;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0) {
    errs.push(`${path}.attempts: must be a non-negative integer, got ${JSON.stringify(attempts)}`);
    return ISTIO_DEFAULT_RETRY;
  }
  if (attempts === 0) return null;
  let on = ISTIO_DEFAULT_RETRY.on;
  if (typeof rt.retryOn === 'string' && rt.retryOn !== '') {
    const p = parseRetryOn(rt.retryOn);
    if (p.error) errs.push(`${path}.retryOn: ${p.error}`);
    else on = retryOnOf(p.value!);
  }
  const base = ms(rt.backoff, `${path}.backoff`, errs) ?? 25;
  return Object.freeze({
    attempts, perTryTimeoutMs: ms(rt.perTryTimeout, `${path}.perTryTimeout`, errs) ?? 0, on,
    ignorePreviousHosts: rt.retryIgnorePreviousHosts ?? true, backoffBaseMs: base, backoffMaxMs: base * 10,
  });
}

function levels(trafficPolicy: any, subset: { trafficPolicy?: any; index: number } | undefined, port: number, path: string): [any, string][] {
  const out: [any, string][] = [];
  const portLevel = (tp: any, p: string) => {
    const i = (tp?.portLevelSettings ?? []).findIndex((s: any) => s.port?.number === port);
    if (i !== -1) out.push([tp.portLevelSettings[i], `${p}.portLevelSettings[${i}]`]);
  };
  if (subset) {
    const sp = `${path}.subsets[${subset.index}].trafficPolicy`;
    portLevel(subset.trafficPolicy, sp);
    if (subset.trafficPolicy) out.push([subset.trafficPolicy, sp]);
  }
  portLevel(trafficPolicy, `${path}.trafficPolicy`);
  if (trafficPolicy) out.push([trafficPolicy, `${path}.trafficPolicy`]);
  return out;
}

/** The effective connectionPool and outlierDetection of a cluster (first level that sets each wins). */
export function compileClusterPolicy(trafficPolicy: any, subset: { trafficPolicy?: any; index: number } | undefined, port: number, path: string, errs: string[]): { limits: PoolLimits; outlier: OutlierPolicy | null } {
  const ls = levels(trafficPolicy, subset, port, path);
  const cpLevel = ls.find(([tp]) => tp.connectionPool);
  const odLevel = ls.find(([tp]) => tp.outlierDetection);
  let limits = DEFAULT_LIMITS;
  if (cpLevel) {
    const [tp, p] = cpLevel;
    const tcp = tp.connectionPool.tcp ?? {}, http = tp.connectionPool.http ?? {};
    const n = (v: unknown, d: number) => (typeof v === 'number' && v > 0 ? v : d);
    limits = Object.freeze({
      maxConnections: n(tcp.maxConnections, DEFAULT_LIMITS.maxConnections),
      maxPending: n(http.http1MaxPendingRequests, DEFAULT_LIMITS.maxPending),
      maxRequests: n(http.http2MaxRequests, DEFAULT_LIMITS.maxRequests),
      maxRetries: n(http.maxRetries, DEFAULT_LIMITS.maxRetries),
      maxRequestsPerConnection: n(http.maxRequestsPerConnection, 0),
      connectTimeoutMs: ms(tcp.connectTimeout, `${p}.connectionPool.tcp.connectTimeout`, errs) ?? DEFAULT_LIMITS.connectTimeoutMs,
      idleTimeoutMs: ms(http.idleTimeout, `${p}.connectionPool.http.idleTimeout`, errs) ?? 0,
    });
  }
  let outlier: OutlierPolicy | null = null;
  if (odLevel) {
    const [tp, p] = odLevel;
    const od = tp.outlierDetection;
    const pct = (v: unknown, f: string, d: number) => {
      if (v === undefined) return d;
      if (typeof v !== 'number' || v < 0 || v > 100) { errs.push(`${p}.outlierDetection.${f}: must be in range [0, 100], got ${JSON.stringify(v)}`); return d; }
      return v;
    };
    outlier = Object.freeze({
      consecutive5xx: od.consecutive5xxErrors ?? od.consecutiveErrors ?? DEFAULT_OUTLIER.consecutive5xx,
      consecutiveGateway: od.consecutiveGatewayErrors ?? 0,
      intervalMs: ms(od.interval, `${p}.outlierDetection.interval`, errs) ?? DEFAULT_OUTLIER.intervalMs,
      baseEjectionMs: ms(od.baseEjectionTime, `${p}.outlierDetection.baseEjectionTime`, errs) ?? DEFAULT_OUTLIER.baseEjectionMs,
      maxEjectionPercent: pct(od.maxEjectionPercent, 'maxEjectionPercent', DEFAULT_OUTLIER.maxEjectionPercent),
      minHealthPercent: pct(od.minHealthPercent, 'minHealthPercent', DEFAULT_OUTLIER.minHealthPercent),
    });
  }
  return { limits, outlier };
}
