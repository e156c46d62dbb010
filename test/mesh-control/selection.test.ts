// Selection and compilation, table-driven, no sockets: which PeerAuthentication decides each port's mode
// (mesh → namespace → workload, UNSET inherits, oldest wins per level, root-namespace selectors ignored),
// which AuthorizationPolicies apply (namespace, root namespace, selector, targetRef Service), and the
// compiled resources (Service ports, Endpoints with identities, Workload) and the debouncer's timing.
import t from 'tap';
import { applicableAuthorizationPolicies, effectivePeerAuthentication } from '../../control-plane/mesh/model/selection.js';
import { compileEndpoints, compileServices, compileWorkload, hashResources, type ClusterView } from '../../control-plane/mesh/model/compile.js';
import { Debouncer, type Timers } from '../../control-plane/mesh/xds/debounce.js';

let seq = 0;
const pa = (ns: string, name: string, spec: any, created?: string): any => ({ metadata: { namespace: ns, name, creationTimestamp: created ?? `2026-01-01T00:00:${String(seq++).padStart(2, '0')}Z` }, spec });
const ap = (ns: string, name: string, spec: any): any => ({ metadata: { namespace: ns, name, creationTimestamp: `2026-01-01T00:00:${String(seq++).padStart(2, '0')}Z` }, spec });
const web = { namespace: 'shop', labels: { app: 'web', version: 'v1' } };

t.test('PeerAuthentication selection', async (t) => {
  const rows: { name: string; policies: any[]; want: { mode: string; portModes?: Record<number, string>; sources: string[] } }[] = [
    { name: 'nothing: PERMISSIVE', policies: [], want: { mode: 'PERMISSIVE', sources: [] } },
    { name: 'mesh-wide STRICT', policies: [pa('istio-system', 'mesh', { mtls: { mode: 'STRICT' } })], want: { mode: 'STRICT', sources: ['istio-system/mesh'] } },
    {
      name: 'namespace overrides mesh',
      policies: [pa('istio-system', 'mesh', { mtls: { mode: 'STRICT' } }), pa('shop', 'ns', { mtls: { mode: 'PERMISSIVE' } })],
      want: { mode: 'PERMISSIVE', sources: ['shop/ns', 'istio-system/mesh'] },
    },
    {
      name: 'namespace UNSET inherits mesh',
      policies: [pa('istio-system', 'mesh', { mtls: { mode: 'STRICT' } }), pa('shop', 'ns', { mtls: { mode: 'UNSET' } })],
      want: { mode: 'STRICT', sources: ['istio-system/mesh'] },
    },
    {
      name: 'workload overrides namespace; port-level DISABLE; UNSET port inherits the workload mode',
      policies: [pa('shop', 'ns', { mtls: { mode: 'STRICT' } }), pa('shop', 'web', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { 8080: { mode: 'DISABLE' }, 9090: { mode: 'UNSET' } } })],
      want: { mode: 'PERMISSIVE', portModes: { 8080: 'DISABLE', 9090: 'PERMISSIVE' }, sources: ['shop/web', 'shop/ns'] },
    },
    {
      name: 'workload without mtls: mode from the namespace, ports from the workload',
      policies: [pa('shop', 'ns', { mtls: { mode: 'STRICT' } }), pa('shop', 'web', { selector: { matchLabels: { app: 'web' } }, portLevelMtls: { 8080: { mode: 'DISABLE' } } })],
      want: { mode: 'STRICT', portModes: { 8080: 'DISABLE' }, sources: ['shop/web', 'shop/ns'] },
    },
    { name: 'selector not matching', policies: [pa('shop', 'db', { selector: { matchLabels: { app: 'db' } }, mtls: { mode: 'STRICT' } })], want: { mode: 'PERMISSIVE', sources: [] } },
    { name: 'another namespace', policies: [pa('ops', 'ns', { mtls: { mode: 'STRICT' } })], want: { mode: 'PERMISSIVE', sources: [] } },
    {
      name: 'root-namespace selector is ignored (Istio)',
      policies: [pa('istio-system', 'sel', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'DISABLE' } })],
      want: { mode: 'PERMISSIVE', sources: [] },
    },
    {
      name: 'two namespace-wide: the oldest wins',
      policies: [pa('shop', 'new', { mtls: { mode: 'DISABLE' } }, '2026-02-01T00:00:00Z'), pa('shop', 'old', { mtls: { mode: 'STRICT' } }, '2025-02-01T00:00:00Z')],
      want: { mode: 'STRICT', sources: ['shop/old'] },
    },
  ];
  for (const r of rows) {
    const got = effectivePeerAuthentication(web, r.policies);
    t.same({ mode: got.mode, portModes: got.portModes, sources: got.sources }, { portModes: {}, ...r.want }, r.name);
  }
  const why = effectivePeerAuthentication(web, rows[9]!.policies).considered;
  t.same(why.map((c) => [c.policy.metadata.name, c.applies]), [['old', true], ['new', false]]);
  t.match(why[1]!.why, /shop\/old is older/);
});

t.test('AuthorizationPolicy selection', async (t) => {
  const services = (ns: string, name: string) => (ns === 'shop' && name === 'web' ? { namespace: ns, name, selector: { app: 'web' } } : ns === 'shop' && name === 'db' ? { namespace: ns, name, selector: { app: 'db' } } : undefined);
  const rows: { name: string; policy: any; applies: boolean; why?: RegExp }[] = [
    { name: 'namespace-wide', policy: ap('shop', 'all', {}), applies: true, why: /namespace-wide/ },
    { name: 'mesh-wide from the root namespace', policy: ap('istio-system', 'mesh', { action: 'DENY', rules: [{}] }), applies: true, why: /mesh-wide/ },
    { name: 'root-namespace selector applies in any namespace', policy: ap('istio-system', 'sel', { selector: { matchLabels: { app: 'web' } } }), applies: true, why: /root namespace/ },
    { name: 'matching selector', policy: ap('shop', 'sel', { selector: { matchLabels: { version: 'v1' } } }), applies: true, why: /selector version=v1/ },
    { name: 'selector not matching', policy: ap('shop', 'nope', { selector: { matchLabels: { app: 'db' } } }), applies: false },
    { name: 'other namespace', policy: ap('ops', 'x', {}), applies: false },
    { name: 'targetRef Service selecting the pod', policy: ap('shop', 'ref', { targetRef: { kind: 'Service', group: '', name: 'web' } }), applies: true, why: /targetRef Service shop\/web/ },
    { name: 'targetRefs, second one selects', policy: ap('shop', 'refs', { targetRefs: [{ kind: 'Service', name: 'db' }, { kind: 'Service', name: 'web' }] }), applies: true },
    { name: 'targetRef Service not selecting', policy: ap('shop', 'refdb', { targetRef: { kind: 'Service', name: 'db' } }), applies: false },
    { name: 'targetRef Gateway: not a sidecar', policy: ap('shop', 'gw', { targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'web' } }), applies: false },
  ];
  for (const r of rows) {
    const got = applicableAuthorizationPolicies(web, [r.policy], services);
    t.equal(got.length > 0, r.applies, r.name);
    if (r.why) t.match(got[0]?.why, r.why, `${r.name}: why`);
  }
});

const view = (o: Partial<Record<keyof ClusterView | 'pods', any>>): ClusterView => ({
  services: () => o.services ?? [], service: (ns, n) => (o.services ?? []).find((s: any) => s.metadata.namespace === ns && s.metadata.name === n),
  endpointSlices: () => o.endpointSlices ?? [], pod: (ns, n) => (o.pods ?? []).find((p: any) => p.metadata.namespace === ns && p.metadata.name === n),
  peerAuthentications: () => o.peerAuthentications ?? [], authorizationPolicies: () => o.authorizationPolicies ?? [],
  virtualServices: () => o.virtualServices ?? [], destinationRules: () => o.destinationRules ?? [], httpRoutes: () => o.httpRoutes ?? [], grpcRoutes: () => o.grpcRoutes ?? [],
  serviceEntries: () => o.serviceEntries ?? [], workloadEntries: () => o.workloadEntries ?? [], pods: () => o.pods ?? [], sidecars: () => o.sidecars ?? [],
  requestAuthentications: () => o.requestAuthentications ?? [], jwks: () => ({ jwks: '', error: 'no cache in this test' }),
});

t.test('compilation', async (t) => {
  const svc = { metadata: { namespace: 'shop', name: 'db' }, spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432, targetPort: 'pg-port', appProtocol: 'postgresql' }, { port: 80 }] } };
  const headless = { metadata: { namespace: 'shop', name: 'h' }, spec: { clusterIP: 'None', ports: [{ port: 1 }] } };
  const dbPod = { metadata: { namespace: 'shop', name: 'db-1', labels: { b: '2', a: '1' } }, spec: { serviceAccountName: 'db', initContainers: [{ name: 'istio-proxy' }], containers: [{ name: 'app' }] }, status: { podIP: '10.244.0.12' } };
  const plain = { metadata: { namespace: 'shop', name: 'db-2' }, spec: { containers: [{ name: 'app' }] } };
  const slice = {
    metadata: { namespace: 'shop', name: 'db-x', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4', ports: [{ name: 'pg', port: 5432 }],
    endpoints: [
      { addresses: ['10.244.0.13'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'db-2', namespace: 'shop' } },
      { addresses: ['10.244.0.12'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'db-1', namespace: 'shop' } },
    ],
  };
  const v = view({ services: [svc, headless], endpointSlices: [slice], pods: [dbPod, plain], authorizationPolicies: [ap('shop', 'c', { action: 'CUSTOM', provider: { name: 'x' } }), ap('shop', 'a', { action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['1.2.3.4'] } }] }] })] });
  const s = compileServices(v);
  t.same(s.map((r) => r.name), ['shop/db', 'shop/h']);
  t.same(s[0]!.service, { name: 'db', namespace: 'shop', hostname: 'db.shop.svc.cluster.local', vips: ['10.96.0.20'], ports: [
    { name: 'pg', port: 5432, targetPort: 0, targetPortName: 'pg-port', protocol: 'TCP', appProtocol: 'postgresql' },
    { name: '', port: 80, targetPort: 80, targetPortName: '', protocol: 'TCP', appProtocol: '' },
  ] });
  t.same(s[1]!.service!.vips, [], 'headless: no VIP');
  const e = compileEndpoints(v);
  t.same(e.map((r) => [r.name, r.endpoints!.endpoints.length]), [['shop/db', 2], ['shop/h', 0]]);
  t.same(e[0]!.endpoints!.endpoints[0], { address: '10.244.0.12', ports: [{ name: 'pg', port: 5432 }], podName: 'db-1', namespace: 'shop', serviceAccount: 'db', identity: 'spiffe://cluster.local/ns/shop/sa/db', mesh: true, labels: { a: '1', b: '2' }, ready: true });
  t.match(e[0]!.endpoints!.endpoints[1], { address: '10.244.0.13', serviceAccount: 'default', mesh: false, ready: false });
  const w = compileWorkload(v, { podName: 'db-1', namespace: 'shop' }).workload!;
  t.match(w, { name: 'db-1', serviceAccount: 'db', identity: 'spiffe://cluster.local/ns/shop/sa/db', ip: '10.244.0.12', peerAuthentication: { mode: 'PERMISSIVE' } });
  t.same(w.authorization.map((a) => [a.name, a.action]), [['a', 'DENY']], 'CUSTOM is not sent to sidecars');
  t.same(w.authorization[0]!.rules[0]!.from[0]!.source.ipBlocks, ['1.2.3.4']);
  t.equal(hashResources(e), hashResources(compileEndpoints(v)), 'same content, same version');
  t.not(hashResources(e), hashResources(compileEndpoints(view({ services: [svc], endpointSlices: [], pods: [] }))));
});

t.test('debouncer: quiet period and maximum wait', async (t) => {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  const fake: Timers = { now: () => now, setTimeout: (fn, ms) => { const h = { at: now + ms, fn }; timers.push(h); return h; }, clearTimeout: (h) => void timers.splice(timers.indexOf(h as any), 1) };
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > end) break;
      timers.shift();
      now = next.at;
      next.fn();
      await Promise.resolve();
    }
    now = end;
  };
  const runs: [number, number][] = [];
  const d = new Debouncer((events, waited) => void runs.push([events, waited]), 100, 1000, fake);
  d.trigger();
  await advance(50);
  d.trigger();
  await advance(99);
  t.same(runs, [], 'still within 100 ms of the last change');
  await advance(1);
  t.same(runs, [[2, 150]], 'fired 100 ms after the last change');
  // a steady stream every 50 ms fires at the 1 s maximum
  for (let i = 0; i < 30; i++) {
    d.trigger();
    await advance(50);
  }
  t.equal(runs[1]![1], 1000, 'max wait 1 s');
  t.equal(runs[1]![0], 20);
  d.stop();
});
