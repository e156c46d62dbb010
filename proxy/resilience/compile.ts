// VirtualService `timeout`/`retries`/`fault` and DestinationRule `connectionPool`/`outlierDetection`/
// `retryBudget` → the frozen
// policies of ./policy.ts and ./cluster.ts, with Istio's defaults and precedence (a subset's trafficPolicy
// over the host's, port-level settings over both at their level). Called by the route compiler
// (../route/compile.ts). Errors name the field path; a bad field leaves the default in place.
import { durationSeconds } from '../../api/kinds/istio/networking.js';
import { parseRetryOn } from '../../api/kinds/istio/retry-on.js';
import { DEFAULT_LIMITS, DEFAULT_OUTLIER, type OutlierPolicy, type PoolLimits } from './cluster.js';
import { DEFAULT_ROUTE_POLICY, ISTIO_DEFAULT_RETRY, retryOnOf, type CorsPolicy, type FaultPolicy, type MirrorPolicy, type RetryPolicy, type RoutePolicy } from './policy.js';
import { GRPC_CODES } from '../../api/kinds/istio/networking-l7.js';

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
export function compileRoutePolicy(r: any, path: string, errs: string[], mirrorCluster?: (dest: any) => string): RoutePolicy {
  const timeoutMs = ms(r?.timeout, `${path}.timeout`, errs) ?? 0;
  const retry = compileRetry(r?.retries, `${path}.retries`, errs);
  const fault = compileFault(r?.fault, `${path}.fault`, errs);
  const mirrors = mirrorCluster ? compileMirrors(r, path, errs, mirrorCluster) : undefined;
  const cors = compileCors(r?.corsPolicy, `${path}.corsPolicy`, errs);
  if (timeoutMs === 0 && retry === ISTIO_DEFAULT_RETRY && !fault && !mirrors && !cors) return DEFAULT_ROUTE_POLICY;
  return Object.freeze({ timeoutMs, retry, ...(fault ? { fault } : {}), ...(mirrors ? { mirrors } : {}), ...(cors ? { cors } : {}) });
}

function compileMirrors(r: any, path: string, errs: string[], cluster: (dest: any) => string): readonly MirrorPolicy[] | undefined {
  const out: MirrorPolicy[] = [];
  if (r?.mirror?.host) {
    const pct = r.mirrorPercentage !== undefined ? percent(r.mirrorPercentage, `${path}.mirrorPercentage`, errs) : r.mirrorPercent !== undefined ? Number(r.mirrorPercent) : 100;
    out.push(Object.freeze({ cluster: cluster(r.mirror), percent: pct }));
  }
  (r?.mirrors ?? []).forEach((m: any, i: number) => {
    if (m?.destination?.host) out.push(Object.freeze({ cluster: cluster(m.destination), percent: percent(m.percentage, `${path}.mirrors[${i}].percentage`, errs) }));
  });
  return out.length ? Object.freeze(out) : undefined;
}

function compileCors(c: any, path: string, errs: string[]): CorsPolicy | undefined {
  if (!c) return undefined;
  const tests: ((o: string) => boolean)[] = [];
  (c.allowOrigins ?? []).forEach((m: any, i: number) => {
    if (m?.exact !== undefined) tests.push((o) => o === m.exact);
    else if (m?.prefix !== undefined) tests.push((o) => o.startsWith(m.prefix));
    else if (m?.regex !== undefined) {
      try {
        const re = new RegExp(`^(?:${m.regex})$`);
        tests.push((o) => re.test(o));
      } catch (e) {
        errs.push(`${path}.allowOrigins[${i}].regex: ${(e as Error).message}`);
      }
    }
  });
  for (const o of c.allowOrigin ?? []) tests.push(o === '*' ? () => true : (x) => x === o); // deprecated field
  const maxAge = ms(c.maxAge, `${path}.maxAge`, errs);
  return Object.freeze({
    allowOrigin: (o: string) => tests.some((t) => t(o)),
    allowMethods: (c.allowMethods ?? []).join(','), allowHeaders: (c.allowHeaders ?? []).join(','), exposeHeaders: (c.exposeHeaders ?? []).join(','),
    maxAge: maxAge !== undefined ? String(Math.floor(maxAge / 1000)) : '', allowCredentials: c.allowCredentials === true,
  });
}

function percent(p: any, path: string, errs: string[]): number {
  if (p === undefined || p === null) return 100; // Istio: no percentage → every request
  const v = p.value ?? 0;
  if (typeof v !== 'number' || v < 0 || v > 100) {
    errs.push(`${path}.value: percentage must be in range [0.0, 100.0], got ${JSON.stringify(v)}`);
    return 0;
  }
  return v;
}

function compileFault(f: any, path: string, errs: string[]): FaultPolicy | undefined {
  if (!f) return undefined;
  const out: { delay?: FaultPolicy['delay']; abort?: FaultPolicy['abort'] } = {};
  if (f.delay) {
    const d = ms(f.delay.fixedDelay, `${path}.delay.fixedDelay`, errs);
    if (d !== undefined) out.delay = Object.freeze({ ms: d, percent: percent(f.delay.percentage ?? (f.delay.percent !== undefined ? { value: f.delay.percent } : undefined), `${path}.delay.percentage`, errs) });
  }
  if (f.abort) {
    const pct = percent(f.abort.percentage, `${path}.abort.percentage`, errs);
    if (f.abort.grpcStatus !== undefined) {
      const code = GRPC_CODES.indexOf(String(f.abort.grpcStatus));
      if (code < 0) errs.push(`${path}.abort.grpcStatus: unknown gRPC status ${JSON.stringify(f.abort.grpcStatus)}`);
      else out.abort = Object.freeze({ status: 200, grpcStatus: code, percent: pct });
    } else if (typeof f.abort.httpStatus === 'number' && f.abort.httpStatus >= 200 && f.abort.httpStatus <= 599) out.abort = Object.freeze({ status: f.abort.httpStatus, percent: pct });
    else errs.push(`${path}.abort.httpStatus: must be in range 200..599, got ${JSON.stringify(f.abort.httpStatus)}`);
  }
  return out.delay || out.abort ? Object.freeze(out) : undefined;
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
  const rbLevel = ls.find(([tp]) => tp.retryBudget);
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
      budgetPercent: DEFAULT_LIMITS.budgetPercent, budgetMinConcurrency: DEFAULT_LIMITS.budgetMinConcurrency,
    });
  }
  if (rbLevel) {
    const [tp, p] = rbLevel;
    const rb = tp.retryBudget;
    const pctv = rb.percent?.value ?? rb.percent ?? DEFAULT_LIMITS.budgetPercent;
    if (typeof pctv !== 'number' || pctv < 0 || pctv > 100) errs.push(`${p}.retryBudget.percent: must be in range [0, 100], got ${JSON.stringify(pctv)}`);
    else limits = Object.freeze({ ...limits, budgetPercent: pctv, budgetMinConcurrency: typeof rb.minRetryConcurrency === 'number' && rb.minRetryConcurrency >= 0 ? rb.minRetryConcurrency : DEFAULT_LIMITS.budgetMinConcurrency });
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
