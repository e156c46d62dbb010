// ingress/chain.ts without sockets: the retrying dialer (connect failure → another endpoint of the cluster;
// an endpoint that failed recently is avoided, then tried again after AVOID_MS), endpoint resolution by
// Service port name, the dispatch's X-Forwarded headers, and flags (every problem listed).
import t from 'tap';
import { PassThrough } from 'node:stream';
import { AVOID_MS, EndpointIndex, ingressDispatch, retryingDialer } from '../../ingress/chain.js';
import { parseIngressFlags } from '../../ingress/flags.js';
import { ConfigStore } from '../../proxy/config/store.js';
import { TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD } from '../../proxy/config/types.js';
import type { Dialer } from '../../proxy/http1/pool.js';
import type { Handler } from '../../proxy/filters/chain.js';

function store(): ConfigStore {
  const s = new ConfigStore();
  s.apply(TYPE_WORKLOAD, '1', [{ name: 'i', namespace: 'kube-system', identity: '', ip: '127.0.0.1' }]);
  s.apply(TYPE_ROUTES, '1', []);
  s.apply(TYPE_SERVICE, '1', [{ name: 'web', namespace: 'default', hostname: 'web.default.svc.cluster.local', vips: ['10.96.0.5'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }]);
  s.apply(TYPE_ENDPOINTS, '1', [{ service: 'default/web', endpoints: ['10.0.0.1', '10.0.0.2'].map((address) => ({ address, ports: [{ name: 'http', port: 9000 }], podName: address, namespace: 'default', mesh: false, ready: true })) }]);
  return s;
}
const cluster = { name: 'outbound|80||web.default.svc.cluster.local', host: 'web.default.svc.cluster.local', port: 80, subset: '', labels: {}, lb: { kind: 'ROUND_ROBIN' } } as any;

t.test('endpoints by Service port name', async (t) => {
  const idx = new EndpointIndex(store().snapshot);
  t.same(idx.endpoints(cluster).map((e) => `${e.address}:${e.port}`), ['10.0.0.1:9000', '10.0.0.2:9000']);
  t.same(idx.alternative('10.0.0.1', 9000), { address: '10.0.0.2', port: 9000, labels: {} });
  t.equal(idx.alternative('10.9.9.9', 1), undefined);
});

t.test('retrying dialer: another endpoint on connect failure, recent failures avoided', async (t) => {
  const idx = new EndpointIndex(store().snapshot);
  idx.endpoints(cluster);
  const down = new Set(['10.0.0.1:9000']);
  const dialed: string[] = [];
  const socks: PassThrough[] = [];
  const fake: Dialer = (a, p, cb) => {
    dialed.push(`${a}:${p}`);
    if (down.has(`${a}:${p}`)) return cb(new Error('ECONNREFUSED'));
    const s = new PassThrough();
    socks.push(s);
    cb(null, s as any);
  };
  let clock = 1000;
  const retries: string[] = [];
  const d = retryingDialer(fake, () => idx, (from, to) => retries.push(`${from}->${to}`), () => clock);
  const dial = (a: string) => new Promise<string>((r) => d(a, 9000, (err) => r(err ? err.message : 'ok')));
  t.equal(await dial('10.0.0.1'), 'ok');
  t.same(dialed, ['10.0.0.1:9000', '10.0.0.2:9000']);
  dialed.length = 0;
  t.equal(await dial('10.0.0.1'), 'ok', 'avoided for a while');
  t.same(dialed, ['10.0.0.2:9000']);
  dialed.length = 0;
  clock += AVOID_MS + 1;
  down.clear();
  t.equal(await dial('10.0.0.1'), 'ok', 'tried again later');
  t.same(dialed, ['10.0.0.1:9000']);
  // a reset on an established connection marks the endpoint too
  socks[socks.length - 1].emit('error', new Error('read ECONNRESET'));
  dialed.length = 0;
  t.equal(await dial('10.0.0.1'), 'ok');
  t.same(dialed, ['10.0.0.2:9000']);
  down.add('10.0.0.1:9000').add('10.0.0.2:9000');
  clock += AVOID_MS + 1;
  t.equal(await dial('10.0.0.1'), 'ECONNREFUSED', 'both down: the error');
  t.ok(retries.length >= 3);
});

t.test('dispatch: X-Forwarded-For appended, X-Forwarded-Proto replaced, the view has the scheme and port', async (t) => {
  let seen: any;
  const h: Handler = (ctx) => { seen = ctx; return { kind: 'respond', status: 204, headers: [], body: '' }; };
  const dispatch = ingressDispatch(() => h, 443, 'https');
  dispatch({ method: 'GET', target: '/x', host: 'a.test', headers: ['host', 'a.test', 'x-forwarded-for', '1.1.1.1', 'x-forwarded-proto', 'http'] } as any, { remoteAddress: '10.1.1.1', localPort: 18443 });
  t.same(seen.head.headers, ['host', 'a.test', 'x-forwarded-for', '1.1.1.1, 10.1.1.1', 'x-forwarded-proto', 'https']);
  t.equal(seen.view.scheme, 'https');
  t.equal(seen.view.port, 443);
});

t.test('flags: every problem listed', async (t) => {
  const r = parseIngressFlags(['--http-port', '0', '--https-port', 'x', '--publish-ip', 'nope', '--bogus=1', '--istio-gateway-labels', 'a'], {});
  t.same(r.problems, [
    'unknown flag: --bogus',
    '--http-port: must be a port between 1 and 65535, got "0"',
    '--https-port: must be a port between 1 and 65535, got "x"',
    '--publish-ip: "nope" is not an IP address',
    '--istio-gateway-labels: "a" is not key=value',
  ]);
  const ok = parseIngressFlags(['--http-port', '8080', '--https-port', '8443'], { HOST_IP: '10.0.0.9' });
  t.same([ok.settings?.httpPort, ok.settings?.redirectPort, ok.settings?.publishIp, ok.settings?.istioLabels], [8080, 8443, '10.0.0.9', { istio: 'ingressgateway' }]);
  t.same(parseIngressFlags(['--pilot-addr', 'x:1'], {}).problems, ['POD_NAME, POD_NAMESPACE: required with a mesh control address (the mesh identity; the manifest sets them from the downward API)']);
});
