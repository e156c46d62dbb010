// The canary's pure parts: the Canary kind's defaults and validation (every error with its field path),
// the analysis (real sidecar metrics registries → snapshots → a step's requests, errors, p99 → the
// decision), the route edits (a VirtualService's and an HTTPRoute's managed weights set while every other
// rule, destination and field stays; manual override detection) and the CLI's Canary and status line.
import t from 'tap';
import { canary, parsePercent } from '../../api/kinds/shoal/canary.js';
import { decide, nextStep, snapshot, stepMetrics, type SnapshotSources } from '../../control-plane/controllers/canary/analysis.js';
import { canaryPercent, dropHttpRouteCanary, isOverride, readHttpRouteWeights, readVsWeights, setHttpRouteWeights, setVsWeights, split, type Managed } from '../../control-plane/controllers/canary/routes.js';
import { canaryFromFlags, parseSteps, statusLine } from '../../cli/commands/canary.js';
import { ProxyMetrics, type RequestLabels } from '../../proxy/admin/metrics.js';
import type { KubeObject } from '../../api/meta.js';

const errorsOf = (spec: Record<string, unknown>, old?: KubeObject) => {
  const o: KubeObject = { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'web', namespace: 'default' }, spec };
  canary.applyDefaults(o);
  return canary.validate(o, old).map((e) => `${e.field}: ${e.type}: ${e.detail}`);
};

t.test('Canary: defaults and validation with field paths', async (t) => {
  const o: KubeObject = { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'web', namespace: 'default' }, spec: { targetRef: { name: 'web' }, image: 'shoal/hello:v2' } };
  canary.applyDefaults(o);
  t.same(o.spec, { targetRef: { name: 'web', apiVersion: 'apps/v1', kind: 'Deployment' }, image: 'shoal/hello:v2', steps: [10, 25, 50, 100], interval: '30s', maxErrorRate: '1%', maxP99: '500ms', minRequests: 10, canaryVersion: 'canary' }, 'defaults');
  t.same(canary.validate(o), [], 'the defaulted canary is valid');
  const rows: [string, Record<string, unknown>, RegExp][] = [
    ['no image', { targetRef: { name: 'web' } }, /^spec\.image: Required/],
    ['no target', { image: 'x' }, /^spec\.targetRef: Required/],
    ['steps not increasing', { targetRef: { name: 'web' }, image: 'x', steps: [20, 10, 100] }, /^spec\.steps\[1\]: Invalid: must be greater than the step before it/],
    ['last step not 100', { targetRef: { name: 'web' }, image: 'x', steps: [20, 50] }, /^spec\.steps\[1\]: Invalid: the last step must be 100/],
    ['step out of range', { targetRef: { name: 'web' }, image: 'x', steps: [0, 100] }, /^spec\.steps\[0\]: Invalid: must be between 1 and 100/],
    ['empty steps', { targetRef: { name: 'web' }, image: 'x', steps: [] }, /^spec\.steps: Required/],
    ['bad interval', { targetRef: { name: 'web' }, image: 'x', interval: 'soon' }, /^spec\.interval: Invalid/],
    ['interval too short', { targetRef: { name: 'web' }, image: 'x', interval: '100ms' }, /^spec\.interval: Invalid: must be a duration of at least 1s/],
    ['bad error rate', { targetRef: { name: 'web' }, image: 'x', maxErrorRate: '150%' }, /^spec\.maxErrorRate: Invalid/],
    ['bad p99', { targetRef: { name: 'web' }, image: 'x', maxP99: 'fast' }, /^spec\.maxP99: Invalid/],
    ['minRequests 0', { targetRef: { name: 'web' }, image: 'x', minRequests: 0 }, /^spec\.minRequests: Invalid: must be greater than 0/],
    ['bad kind', { targetRef: { name: 'web', kind: 'StatefulSet' }, image: 'x' }, /^spec\.targetRef\.kind: NotSupported/],
    ['bad route kind', { targetRef: { name: 'web' }, image: 'x', routeRef: { kind: 'Ingress', name: 'a' } }, /^spec\.routeRef\.kind: NotSupported/],
    ['unknown field', { targetRef: { name: 'web' }, image: 'x', weight: 5 }, /^spec\.weight: /],
    ['bad target name', { targetRef: { name: 'Web_1' }, image: 'x' }, /^spec\.targetRef\.name: Invalid/],
    ['bad canary version', { targetRef: { name: 'web' }, image: 'x', canaryVersion: '-x-' }, /^spec\.canaryVersion: Invalid/],
  ];
  for (const [name, spec, want] of rows) {
    const errs = errorsOf(spec);
    t.ok(errs.some((e) => want.test(e)), `${name}: ${errs.join(' | ')}`);
  }
  const several = errorsOf({ targetRef: { name: 'web' }, image: 'x', steps: [20, 10], maxErrorRate: 'lots' });
  t.ok(several.length >= 3, `every error collected, not just the first: ${several.join(' | ')}`);
  const old: KubeObject = { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'web' }, spec: { targetRef: { name: 'web' }, image: 'x' } };
  t.match(errorsOf({ targetRef: { name: 'api' }, image: 'x' }, old).join('\n'), /spec\.targetRef\.name: Invalid: field is immutable/, 'the target cannot change');
  t.same([parsePercent('1%'), parsePercent('0.5%'), parsePercent('20'), parsePercent('101%'), parsePercent('x')], [0.01, 0.005, 0.2, undefined, undefined], 'percent strings');
});

// ------------------------------------------------------------------ analysis

const labels = (dst: string, version: string, reporter: 'source' | 'destination', code: number): RequestLabels => ({
  reporter, source_workload: 'load', source_workload_namespace: 'ns', source_principal: 'spiffe://cluster.local/ns/ns/sa/default', source_app: 'load',
  source_version: '', source_canonical_service: 'load', source_canonical_revision: 'latest',
  destination_workload: dst, destination_workload_namespace: 'ns', destination_principal: 'spiffe://cluster.local/ns/ns/sa/default',
  destination_app: 'web', destination_version: version, destination_service: 'web.ns.svc.cluster.local', destination_canonical_service: 'web',
  destination_canonical_revision: version, request_protocol: 'http', response_code: String(code), response_flags: '-', grpc_response_status: '',
  connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
});

t.test('analysis: real sidecar registries → a step → the decision', async (t) => {
  const sidecars = { load: new ProxyMetrics(), web: new ProxyMetrics(), canary: new ProxyMetrics() };
  const pod = (name: string, ip: string, app: string, version: string): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels: { app, version, 'pod-template-hash': 'abc' } },
    spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'istio-proxy' }] }, status: { phase: 'Running', podIP: ip },
  });
  const byIp: Record<string, ProxyMetrics> = { '10.0.0.1': sidecars.load, '10.0.0.2': sidecars.web, '10.0.0.3': sidecars.canary };
  let now = 1000;
  const src: SnapshotSources = {
    pods: () => [pod('load-abc-1', '10.0.0.1', 'load', ''), pod('web-abc-1', '10.0.0.2', 'web', 'v1'), pod('web-canary-abc-1', '10.0.0.3', 'web', 'canary'), { ...pod('gone-abc-1', '10.0.0.9', 'x', ''), status: { phase: 'Succeeded' } }],
    fetchText: async (url) => {
      const m = byIp[new URL(url).hostname];
      if (!m) throw new Error('connect ECONNREFUSED');
      return m.registry.metrics();
    },
    now: () => now,
  };
  const send = (dst: 'web' | 'web-canary', n: number, code: number, ms: number) => {
    const s = dst === 'web' ? sidecars.web : sidecars.canary;
    for (let i = 0; i < n; i++) {
      sidecars.load.request(labels(dst, dst === 'web' ? 'v1' : 'canary', 'source', code), ms);
      s.request(labels(dst, dst === 'web' ? 'v1' : 'canary', 'destination', code), ms);
    }
  };
  // before the step: traffic that must not count
  send('web-canary', 50, 503, 3);
  send('web', 100, 200, 3);
  const before = await snapshot(src, 'ns');
  t.equal(before.size, 3, 'the three sidecars scraped (the finished pod left out)');
  now += 4000;
  send('web-canary', 80, 200, 3);
  send('web-canary', 20, 500, 3);
  send('web', 400, 200, 3);
  const after = await snapshot(src, 'ns');
  const m = stepMetrics(before, after, 'ns', 'web-canary');
  t.equal(m.requests, 100, 'only the step\'s requests to the canary');
  t.equal(m.failed, 20, 'its 5xx');
  t.equal(m.errorRate, 0.2);
  t.ok(m.p99Ms !== null && m.p99Ms <= 5, `p99 from the histogram (${m.p99Ms} ms, in the 1–5 ms bucket)`);
  const thr = { maxErrorRate: 0.01, maxP99Ms: 500, minRequests: 10 };
  t.match(decide(m, thr), { action: 'rollback', reason: /error rate 20% \(20\/100\) is above the maximum 1\.0%/ }, '20% errors: roll back');
  t.equal(stepMetrics(before, after, 'ns', 'web').failed, 0, 'the primary is measured apart');

  // a slow canary
  const before2 = after;
  send('web-canary', 50, 200, 800);
  const m2 = stepMetrics(before2, await snapshot(src, 'ns'), 'ns', 'web-canary');
  t.equal(m2.requests, 50);
  t.match(decide(m2, thr), { action: 'rollback', reason: /p99 \d+ms is above the maximum 500ms/ }, 'slow: roll back');
  const table: [Parameters<typeof decide>[0], string][] = [
    [{ requests: 40, failed: 0, errorRate: 0, p99Ms: 12 }, 'advance'],
    [{ requests: 3, failed: 0, errorRate: 0, p99Ms: 12 }, 'wait'],
    [{ requests: 0, failed: 0, errorRate: 0, p99Ms: null }, 'wait'],
    [{ requests: 3, failed: 1, errorRate: 1 / 3, p99Ms: 12 }, 'rollback'],
    [{ requests: 1000, failed: 10, errorRate: 0.01, p99Ms: 500 }, 'advance'],
    [{ requests: 1000, failed: 11, errorRate: 0.011, p99Ms: 20 }, 'rollback'],
  ];
  for (const [x, want] of table) t.equal(decide(x, thr).action, want, `${JSON.stringify(x)} → ${want}`);
  t.same([nextStep([20, 50, 100], 0), nextStep([20, 50, 100], 2)], [{ index: 1, weight: 50 }, 'promote'], 'the steps');
});

// ------------------------------------------------------------------ routes

const m: Managed = { kind: 'VirtualService', service: 'web', namespace: 'ns', primary: 'v1', canary: 'canary' };
const vs = {
  apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'web', namespace: 'ns' },
  spec: {
    hosts: ['web'], gateways: ['mesh'],
    http: [
      { name: 'admin', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host: 'admin' } }] },
      { name: 'main', timeout: '5s', retries: { attempts: 2 }, route: [{ destination: { host: 'web.ns.svc.cluster.local', subset: 'v1', port: { number: 80 } }, weight: 90, headers: { request: { set: { x: '1' } } } }, { destination: { host: 'web', subset: 'v3' }, weight: 10 }] },
    ],
  },
};

t.test('VirtualService: only the two managed weights change', async (t) => {
  const at20 = setVsWeights(vs, m, 20);
  t.same(at20.spec.http[0], vs.spec.http[0], 'another rule is untouched');
  t.same({ ...at20.spec, http: undefined }, { ...vs.spec, http: undefined }, 'hosts and gateways untouched');
  const main = at20.spec.http[1];
  t.equal(main.timeout, '5s');
  t.same(main.retries, { attempts: 2 }, 'the rule\'s own fields stay');
  t.same(main.route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 72], ['canary', 18], ['v3', 10]], 'the canary takes 20% of the primary\'s 90; v3 keeps its 10');
  t.same(main.route[1].destination, { host: 'web.ns.svc.cluster.local', subset: 'canary', port: { number: 80 } }, 'the canary destination copies the host and port');
  t.same(main.route[0].headers, { request: { set: { x: '1' } } }, 'the primary destination keeps its headers');
  t.same(readVsWeights(at20, m), { primary: 72, canary: 18 });
  t.equal(canaryPercent(readVsWeights(at20, m)!), 20);
  t.same(vs.spec.http[1].route.length, 2, 'the input is not mutated');
  const at100 = setVsWeights(at20, m, 100);
  t.same(at100.spec.http[1].route.map((d: any) => d.weight), [0, 90, 10], '100%: all of the share');
  const back = setVsWeights(at100, m, 0);
  t.same(back.spec.http[1].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 90], ['canary', 0], ['v3', 10]], 'back to the primary');
  const lone = { spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web' } }] }] } };
  t.same(setVsWeights(lone, m, 25).spec.http[0].route, [{ destination: { host: 'web', subset: 'v1' }, weight: 75 }, { destination: { host: 'web', subset: 'canary' }, weight: 25 }], 'a lone destination without subset or weight: 100 split, primary subset set');
  t.same(split(90, 33), { primary: 61, canary: 29 }, 'the canary rounds down');
});

t.test('manual override: a person changed the managed weights', async (t) => {
  const at20 = setVsWeights(vs, m, 20);
  const applied = readVsWeights(at20, m)!;
  t.notOk(isOverride(at20, m, applied), 'as written: no override');
  const otherEdit = structuredClone(at20);
  otherEdit.spec.http[0].timeout = '1s';
  otherEdit.spec.http[1].route[2].weight = 10;
  otherEdit.spec.http[1].retries = { attempts: 5 };
  t.notOk(isOverride(otherEdit, m, applied), 'edits elsewhere are not an override');
  t.equal(setVsWeights(otherEdit, m, 50).spec.http[0].timeout, '1s', 'and the next step keeps them');
  const byHand = structuredClone(at20);
  byHand.spec.http[1].route[0].weight = 90;
  byHand.spec.http[1].route[1].weight = 0;
  t.ok(isOverride(byHand, m, applied), 'the weights changed by hand');
  const removed = structuredClone(at20);
  removed.spec.http = [removed.spec.http[0]];
  t.ok(isOverride(removed, m, applied), 'the managed rule removed');
  t.notOk(isOverride(byHand, m, undefined), 'nothing written yet: no override');
});

t.test('HTTPRoute: backendRefs weights', async (t) => {
  const hm: Managed = { kind: 'HTTPRoute', service: 'web', namespace: 'ns', primary: 'web', canary: 'web-canary' };
  const hr = {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'ns' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/static' } }], backendRefs: [{ name: 'static', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x', value: '1' }] } }], backendRefs: [{ name: 'web', port: 80 }] },
      ],
    },
  };
  const at10 = setHttpRouteWeights(hr, hm, 10);
  t.same(at10.spec.rules[0], hr.spec.rules[0], 'another rule is untouched');
  t.same(at10.spec.parentRefs, hr.spec.parentRefs, 'parentRefs untouched');
  t.same(at10.spec.rules[1].filters, hr.spec.rules[1].filters, 'the rule\'s filters stay');
  t.same(at10.spec.rules[1].backendRefs, [{ name: 'web', port: 80, weight: 90 }, { name: 'web-canary', port: 80, weight: 10 }], 'a lone default-weight backend: 90/10');
  t.same(readHttpRouteWeights(at10, hm), { primary: 90, canary: 10 });
  const at50 = setHttpRouteWeights(at10, hm, 50);
  t.same(at50.spec.rules[1].backendRefs.map((b: any) => b.weight), [50, 50]);
  t.notOk(isOverride(at50, hm, readHttpRouteWeights(at50, hm)), 'as written');
  const byHand = structuredClone(at50);
  byHand.spec.rules[1].backendRefs[1].weight = 0;
  t.ok(isOverride(byHand, hm, { primary: 50, canary: 50 }), 'edited by hand');
  t.same(dropHttpRouteCanary(setHttpRouteWeights(at50, hm, 0), hm).spec.rules[1].backendRefs, [{ name: 'web', port: 80, weight: 100 }], 'after the run the canary backendRef is removed');
  const small = { spec: { rules: [{ backendRefs: [{ name: 'web', port: 80, weight: 1 }, { name: 'web-v3', port: 80, weight: 1 }] }] } };
  t.same(setHttpRouteWeights(small, hm, 50).spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight]), [['web', 50], ['web-canary', 50], ['web-v3', 100]], 'small relative weights are scaled alike (proportions kept) so percents are exact');
  const third = { spec: { rules: [{ backendRefs: [{ name: 'web', port: 80, weight: 70 }, { name: 'web-v3', port: 80, weight: 30 }] }] } };
  t.same(setHttpRouteWeights(third, hm, 50).spec.rules[0].backendRefs, [{ name: 'web', port: 80, weight: 70 }, { name: 'web-canary', port: 80, weight: 70 }, { name: 'web-v3', port: 80, weight: 60 }], 'a third backend keeps its share (70:30 scaled alike to 140:60)');
});

t.test('CLI: the Canary from flags, the status line', async (t) => {
  const o = canaryFromFlags('web', { image: 'shoal/hello:v2', steps: '20,50,100', interval: '3s', 'max-error-rate': '2%', 'max-p99': '300ms' }, 'shop');
  t.same(o, { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'web', namespace: 'shop' }, spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, image: 'shoal/hello:v2', steps: [20, 50, 100], interval: '3s', maxErrorRate: '2%', maxP99: '300ms' } });
  t.throws(() => parseSteps('10,x'), /--steps: must be comma-separated integer percentages/);
  t.throws(() => canaryFromFlags('web', {}, 'ns'), /required flag\(s\) "image" not set/);
  const line = statusLine({ ...o, status: { phase: 'Progressing', canaryWeight: 50, stepIndex: 1, lastAnalysis: { requests: 40, errorRate: 0, p99Ms: 12.4 }, message: 'weight 50%' } });
  t.equal(line, 'web  Progressing  weight 50%  step 2/3  last: 40 req, 0.0% errors, p99 12ms  weight 50%');
  t.match(statusLine({ ...o, status: { phase: 'Progressing', paused: true, canaryWeight: 0, message: 'paused: manual override' } }), /Progressing \(paused\)/);
});
