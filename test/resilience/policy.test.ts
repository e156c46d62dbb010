// proxy/resilience, table-driven: retryOn parsing (the API's field-path errors), which outcomes each
// condition retries, the backoff's bounds, route and cluster policy compilation with Istio's defaults and
// precedence, the cluster guard's circuit breaker (admit, queue, overflow), retry budget and outlier
// detection on a fake clock (ejection after N errors, baseEjectionTime × count, maxEjectionPercent,
// minHealthPercent).
import t from 'tap';
import { parseRetryOn } from '../../api/kinds/istio/retry-on.js';
import { virtualService, destinationRule } from '../../api/kinds/istio/networking.js';
import { validateVirtualServiceL7 } from '../../api/kinds/istio/networking-l7.js';
import { backoffMs, flagString, grpcStatusOf, ISTIO_DEFAULT_RETRY, retriable, retryOnOf, shadowHost, type AttemptOutcome } from '../../proxy/resilience/policy.js';
import { compileClusterPolicy, compileRoutePolicy } from '../../proxy/resilience/compile.js';
import { ClusterGuard, DEFAULT_LIMITS, DEFAULT_OUTLIER } from '../../proxy/resilience/cluster.js';

t.test('retryOn parsing', async (t) => {
  const ok = parseRetryOn('5xx, gateway-error,reset,connect-failure,refused-stream,retriable-4xx,503,429,unavailable,cancelled,deadline-exceeded,resource-exhausted');
  t.same(ok.value?.statusCodes, [503, 429]);
  t.same(ok.value?.grpc, [14, 1, 4, 8]);
  t.ok(ok.value?.conditions.includes('retriable-status-codes'), 'bare codes add retriable-status-codes');
  for (const bad of ['5xx,bogus', '5xx,,reset', '600', 'retriable-headers'])
    t.ok(parseRetryOn(bad).error, `${bad}: ${parseRetryOn(bad).error}`);
});

const vs = (http: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'default' }, spec: { hosts: ['r'], http } });
const route = [{ destination: { host: 'r' } }];
const msgs = (errs: { field: string; detail?: string }[]) => errs.map((e) => `${e.field}: ${e.detail ?? ''}`).join(' | ');

t.test('bad input is rejected at the API with the field path', async (t) => {
  const rows: [unknown, RegExp][] = [
    [{ route, retries: { attempts: 3, retryOn: '5xx,sometimes' } }, /spec\.http\[0\]\.retries\.retryOn: .*unknown retry condition "sometimes"/],
    [{ route, retries: { attempts: -1 } }, /spec\.http\[0\]\.retries\.attempts/],
    [{ route, retries: { attempts: 2, perTryTimeout: '-1s' } }, /spec\.http\[0\]\.retries\.perTryTimeout/],
    [{ route, timeout: '-5s' }, /spec\.http\[0\]\.timeout/],
    [{ route, fault: { abort: { httpStatus: 503, percentage: { value: 120 } } } }, /spec\.http\[0\]\.fault\.abort\.percentage\.value/],
    [{ route, fault: { delay: { fixedDelay: '1s', percentage: { value: -1 } } } }, /spec\.http\[0\]\.fault\.delay\.percentage\.value/],
    [{ route, mirror: { host: 'm' }, mirrorPercentage: { value: 101 } }, /spec\.http\[0\]\.mirrorPercentage\.value/],
  ];
  for (const [http, want] of rows) {
    const errs = virtualService.validate(vs([http]) as any);
    t.match(msgs(errs), want, msgs(errs));
  }
  t.same(virtualService.validate(vs([{ route, timeout: '2s', retries: { attempts: 3, perTryTimeout: '500ms', retryOn: 'gateway-error,connect-failure,503' } }]) as any), [], 'a valid policy passes');
  const dr = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'd', namespace: 'default' }, spec: { host: 'r', trafficPolicy: { outlierDetection: { maxEjectionPercent: 150, baseEjectionTime: '-30s' }, connectionPool: { tcp: { maxConnections: -1 } } } } };
  const derrs = msgs(destinationRule.validate(dr as any));
  t.match(derrs, /spec\.trafficPolicy\.outlierDetection\.maxEjectionPercent/);
  t.match(derrs, /spec\.trafficPolicy\.outlierDetection\.baseEjectionTime/);
  t.match(derrs, /spec\.trafficPolicy\.connectionPool\.tcp\.maxConnections/);
  t.match(msgs(validateVirtualServiceL7(vs([{ route, retries: { retryOn: 'nope' } }]))), /spec\.http\[0\]\.retries\.retryOn/, 'the proxy NACK path checks it too');
  t.match(msgs(validateVirtualServiceL7(vs([{ route, fault: { abort: { grpcStatus: 'BROKEN' } } }]))), /spec\.http\[0\]\.fault\.abort\.grpcStatus/);
});

t.test('which outcomes each condition retries (Envoy)', async (t) => {
  const on = (s: string) => retryOnOf(parseRetryOn(s).value!);
  const R = (status: number, grpcStatus?: number): AttemptOutcome => ({ kind: 'response', status, ...(grpcStatus !== undefined ? { grpcStatus } : {}) });
  const rows: [string, AttemptOutcome, boolean][] = [
    ['5xx', R(500), true], ['5xx', R(503), true], ['5xx', R(404), false], ['5xx', { kind: 'reset' }, true], ['5xx', { kind: 'connect-failure' }, true],
    ['5xx', { kind: 'per-try-timeout' }, true],
    ['gateway-error', R(500), false], ['gateway-error', R(502), true], ['gateway-error', R(504), true],
    ['reset', R(503), false], ['reset', { kind: 'reset' }, true],
    ['connect-failure', { kind: 'connect-failure' }, true], ['connect-failure', { kind: 'reset' }, false], ['connect-failure', R(503), false],
    ['retriable-4xx', R(409), true], ['retriable-4xx', R(404), false],
    ['429,503', R(429), true], ['429,503', R(500), false],
    ['unavailable', R(200, 14), true], ['unavailable', R(200, 13), false], ['cancelled,deadline-exceeded', R(200, 4), true],
    ['refused-stream', { kind: 'refused-stream' }, true],
  ];
  for (const [cond, o, want] of rows) t.equal(retriable(on(cond), o), want, `${cond} × ${JSON.stringify(o)}`);
  const def = ISTIO_DEFAULT_RETRY;
  t.equal(def.attempts, 2);
  t.ok(retriable(def.on, R(503)) && retriable(def.on, { kind: 'connect-failure' }) && retriable(def.on, R(200, 14)) && retriable(def.on, R(200, 1)), 'Istio default: 503, connect-failure, unavailable, cancelled');
  t.notOk(retriable(def.on, R(500)) || retriable(def.on, { kind: 'reset' }), 'but not 500 nor a reset');
});

t.test('backoff: fully jittered, 25 ms base doubling, capped at 10×', async (t) => {
  const p = { backoffBaseMs: 25, backoffMaxMs: 250 };
  t.equal(backoffMs(p, 1, () => 0), 0);
  t.equal(backoffMs(p, 1, () => 0.999), 24);
  t.equal(backoffMs(p, 3, () => 0.999), 99);
  t.equal(backoffMs(p, 10, () => 0.999), 249, 'capped');
});

t.test('route policy compilation', async (t) => {
  const errs: string[] = [];
  const p = compileRoutePolicy({ timeout: '1.5s', retries: { attempts: 3, perTryTimeout: '200ms', retryOn: '5xx', retryIgnorePreviousHosts: false, backoff: '10ms' } }, 'spec.http[0]', errs);
  t.same(errs, []);
  t.equal(p.timeoutMs, 1500);
  t.match(p.retry, { attempts: 3, perTryTimeoutMs: 200, ignorePreviousHosts: false, backoffBaseMs: 10, backoffMaxMs: 100 });
  t.equal(compileRoutePolicy({}, 'x', errs).retry, ISTIO_DEFAULT_RETRY, 'none set: Istio default');
  t.equal(compileRoutePolicy({ retries: { attempts: 0 } }, 'x', errs).retry, null, 'attempts 0: no retries');
  const bad: string[] = [];
  compileRoutePolicy({ timeout: 'soon', retries: { attempts: 2, retryOn: 'x' } }, 'spec.http[1]', bad);
  t.match(bad.join('|'), /spec\.http\[1\]\.timeout: .*\|spec\.http\[1\]\.retries\.retryOn: /);
});

t.test('cluster policy: Istio defaults and subset precedence', async (t) => {
  const errs: string[] = [];
  const tp = { connectionPool: { tcp: { maxConnections: 10, connectTimeout: '2s' }, http: { http1MaxPendingRequests: 5, maxRequestsPerConnection: 3 } }, outlierDetection: { consecutive5xxErrors: 7 } };
  const host = compileClusterPolicy(tp, undefined, 80, 'DestinationRule ns/d: spec', errs);
  t.match(host.limits, { maxConnections: 10, maxPending: 5, maxRequestsPerConnection: 3, connectTimeoutMs: 2000 });
  t.match(host.outlier, { ...DEFAULT_OUTLIER, consecutive5xx: 7 }, 'outlier defaults: 10 s, 30 s, 10%, 0%');
  const sub = compileClusterPolicy(tp, { trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 } } }, index: 0 }, 80, 'p', errs);
  t.equal(sub.limits.maxConnections, 1, 'subset wins');
  t.equal(sub.limits.maxPending, DEFAULT_LIMITS.maxPending, 'the whole connectionPool of the winning level');
  t.equal(sub.outlier?.consecutive5xx, 7, 'outlierDetection from the host');
  t.same(compileClusterPolicy(undefined, undefined, 80, 'p', errs), { limits: DEFAULT_LIMITS, outlier: null });
  t.same(errs, []);
});

t.test('guard: circuit breaker admits, queues FIFO, overflows', async (t) => {
  const g = new ClusterGuard({ ...DEFAULT_LIMITS, maxConnections: 2, maxPending: 1 });
  const ran: string[] = [];
  t.equal(g.admit(() => ran.push('a')), 'now');
  t.equal(g.admit(() => ran.push('b')), 'now');
  t.equal(g.admit(() => ran.push('c')), 'queued');
  t.equal(g.admit(() => ran.push('d')), 'overflow');
  t.equal(g.stats.overflow, 1);
  g.release();
  t.same(ran, ['c'], 'the queued one runs when a slot frees');
  t.equal(g.activeRequests(), 2);
  const e = () => ran.push('e');
  t.equal(g.admit(e), 'queued');
  g.release(e);
  g.release();
  g.release();
  t.same(ran, ['c'], 'a withdrawn start never runs');
  t.equal(g.activeRequests(), 0);
});

t.test('guard: retry budget (20% of active, at least 3) and maxRetries', async (t) => {
  const g = new ClusterGuard();
  for (let i = 0; i < 10; i++) g.admit(() => {});
  t.ok(g.tryRetry() && g.tryRetry() && g.tryRetry(), 'min concurrency 3');
  t.notOk(g.tryRetry(), '10 active: 3 concurrent retries at most');
  for (let i = 0; i < 20; i++) g.admit(() => {});
  t.ok(g.tryRetry(), '30 active: a 4th (20% = 6)');
  g.retryDone();
  const m = new ClusterGuard({ ...DEFAULT_LIMITS, maxRetries: 1 });
  t.ok(m.tryRetry());
  t.notOk(m.tryRetry(), 'maxRetries 1');
  m.retryDone();
  t.ok(m.tryRetry());
});

t.test('guard: outlier detection on a fake clock', async (t) => {
  let now = 0;
  const g = new ClusterGuard(DEFAULT_LIMITS, { ...DEFAULT_OUTLIER, baseEjectionMs: 1000, maxEjectionPercent: 50 }, () => now);
  const eps = ['a', 'b', 'c', 'd'].map((address) => ({ address, port: 80 }));
  const bad: AttemptOutcome = { kind: 'response', status: 503 };
  for (let i = 0; i < 4; i++) g.report('a:80', bad);
  t.equal(g.healthy(eps).length, 4, '4 errors: not yet');
  g.report('a:80', { kind: 'response', status: 200 });
  for (let i = 0; i < 4; i++) g.report('a:80', bad);
  t.equal(g.healthy(eps).length, 4, 'a success resets the count');
  g.report('a:80', { kind: 'connect-failure' });
  t.same(g.healthy(eps).map((e) => e.address), ['b', 'c', 'd'], '5th consecutive error (local-origin counts): ejected');
  now = 999;
  t.ok(g.ejected('a:80'));
  now = 1000;
  t.notOk(g.ejected('a:80'), 'back after baseEjectionTime');
  for (let i = 0; i < 5; i++) g.report('a:80', bad);
  now = 2999;
  t.ok(g.ejected('a:80'), 'second ejection lasts 2 × base');
  for (const h of ['b', 'c']) for (let i = 0; i < 5; i++) g.report(`${h}:80`, bad);
  t.equal(g.healthy(eps).length, 2, 'maxEjectionPercent 50: at most 2 of 4 out');
  const m = new ClusterGuard(DEFAULT_LIMITS, { ...DEFAULT_OUTLIER, maxEjectionPercent: 100, minHealthPercent: 60 }, () => now);
  for (const h of ['a', 'b']) for (let i = 0; i < 5; i++) m.report(`${h}:80`, bad);
  t.equal(m.healthy(eps).length, 4, 'below minHealthPercent: outlier detection is off, all endpoints used');
});

t.test('shadow hosts, grpc-status, flag order', async (t) => {
  for (const [h, want] of [['reviews', 'reviews-shadow'], ['reviews:9080', 'reviews-shadow:9080'], ['10.0.0.1:80', '10.0.0.1-shadow:80'], ['[fd00::1]:80', '[fd00::1]-shadow:80']])
    t.equal(shadowHost(h), want, h);
  t.same(grpcStatusOf(['content-type', 'application/grpc', 'grpc-status', '14']), { grpcStatus: 14 });
  t.same(grpcStatusOf(['grpc-status', 'x']), {});
  t.equal(flagString(['URX', 'UF']), 'UF,URX', "Envoy's order");
  t.equal(flagString([]), '-');
});
