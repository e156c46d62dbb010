// PeerAuthentication and AuthorizationPolicy validation at the API (api/kinds/istio/security.ts): table
// rows {tweak of a valid policy, the exact errors with their field paths}, then the same through the real
// API server: a bad policy is a 422 whose causes name the fields.
import t from 'tap';
import { errorsOf } from '../api/fixtures/helpers.js';
import { startApi, R } from './fixture.js';

const pa = () => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'p', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } } });
const ap = () => ({
  apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'a', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'db' } }, action: 'ALLOW',
    rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/web'], ipBlocks: ['10.244.0.0/16'] } }], to: [{ operation: { ports: ['5432'] } }], when: [{ key: 'source.ip', values: ['10.0.0.1'] }] }],
  },
});

type Row = { name: string; base: () => any; mutate: (o: any) => void; want: string[] };
const rows: Row[] = [
  { name: 'valid PeerAuthentication', base: pa, mutate: () => undefined, want: [] },
  { name: 'valid AuthorizationPolicy', base: ap, mutate: () => undefined, want: [] },
  { name: 'unknown mTLS mode', base: pa, mutate: (o) => (o.spec.mtls.mode = 'MUTUAL'), want: ['spec.mtls.mode: Unsupported value: "MUTUAL": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"'] },
  { name: 'unknown port-level mode', base: pa, mutate: (o) => (o.spec.portLevelMtls['8080'].mode = 'strict'), want: ['spec.portLevelMtls[8080].mode: Unsupported value: "strict": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"'] },
  { name: 'portLevelMtls without a selector', base: pa, mutate: (o) => delete o.spec.selector, want: ['spec.portLevelMtls: Forbidden: port level mTLS settings require a non-empty workload selector'] },
  { name: 'port-level key out of range', base: pa, mutate: (o) => (o.spec.portLevelMtls = { '70000': { mode: 'STRICT' } }), want: ['spec.portLevelMtls[70000]: Invalid value: 70000: must be between 1 and 65535, inclusive'] },
  { name: 'unknown action', base: ap, mutate: (o) => (o.spec.action = 'REJECT'), want: ['spec.action: Unsupported value: "REJECT": supported values: "ALLOW", "DENY", "AUDIT", "CUSTOM"'] },
  { name: 'CUSTOM without provider', base: ap, mutate: (o) => (o.spec.action = 'CUSTOM'), want: ['spec.provider.name: Required value: must specify a provider for CUSTOM action'] },
  { name: 'provider without CUSTOM', base: ap, mutate: (o) => (o.spec.provider = { name: 'ext' }), want: ['spec.provider: Forbidden: provider must only be used with CUSTOM action'] },
  {
    name: 'bad CIDRs and IPs in ipBlocks, remoteIpBlocks and source.ip',
    base: ap,
    mutate: (o) => {
      o.spec.rules[0].from[0].source.ipBlocks = ['10.244.0.0/33', '10.1.2'];
      o.spec.rules[0].from[0].source.notRemoteIpBlocks = ['bad'];
      o.spec.rules[0].when[0].values = ['300.0.0.1'];
    },
    want: [
      'spec.rules[0].from[0].source.ipBlocks[0]: Invalid value: "10.244.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'spec.rules[0].from[0].source.ipBlocks[1]: Invalid value: "10.1.2": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'spec.rules[0].from[0].source.notRemoteIpBlocks[0]: Invalid value: "bad": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'spec.rules[0].when[0].values[0]: Invalid value: "300.0.0.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ],
  },
  {
    name: 'bad principals: scheme, inner wildcard, empty',
    base: ap,
    mutate: (o) => (o.spec.rules[0].from[0].source.principals = ['spiffe://cluster.local/ns/shop/sa/web', 'cluster.local/*/sa/web', '']),
    want: [
      'spec.rules[0].from[0].source.principals[0]: Invalid value: "spiffe://cluster.local/ns/shop/sa/web": must not start with spiffe:// (principals are <trust-domain>/ns/<namespace>/sa/<service-account>)',
      'spec.rules[0].from[0].source.principals[1]: Invalid value: "cluster.local/*/sa/web": wildcard * is only supported alone, as a prefix or as a suffix',
      'spec.rules[0].from[0].source.principals[2]: Invalid value: "": must not be empty',
    ],
  },
  { name: 'wildcard principals are fine', base: ap, mutate: (o) => (o.spec.rules[0].from[0].source.principals = ['*', 'cluster.local/ns/shop/*', '*/sa/web']), want: [] },
  {
    name: 'serviceAccounts: format, and not with principals',
    base: ap,
    mutate: (o) => (o.spec.rules[0].from[0].source.serviceAccounts = ['web']),
    want: ['spec.rules[0].from[0].source.serviceAccounts[0]: Invalid value: "web": must be <namespace>/<service-account>', 'spec.rules[0].from[0].source.serviceAccounts: Invalid value: "object": cannot be set with principals or namespaces'],
  },
  {
    name: 'unknown condition key; destination.port not a port',
    base: ap,
    mutate: (o) => (o.spec.rules[0].when = [{ key: 'source.user', values: ['x'] }, { key: 'destination.port', values: ['http', '0'] }]),
    want: [
      'spec.rules[0].when[0].key: Invalid value: "source.user": unknown attribute (see Istio\'s authorization policy conditions)',
      'spec.rules[0].when[1].values[0]: Invalid value: "http": port must be a number',
      'spec.rules[0].when[1].values[1]: Invalid value: "0": must be between 1 and 65535, inclusive',
    ],
  },
  { name: 'header and claim conditions are known', base: ap, mutate: (o) => (o.spec.rules[0].when = [{ key: 'request.headers[x-user]', values: ['a'] }, { key: 'request.auth.claims[groups]', values: ['b'] }]), want: [] },
  { name: 'empty source', base: ap, mutate: (o) => (o.spec.rules[0].from[0].source = { principals: [] }), want: ['spec.rules[0].from[0].source: Required value: source must not be empty'] },
  {
    name: 'targetRef: selector too, unsupported kind, other namespace',
    base: ap,
    mutate: (o) => (o.spec.targetRef = { kind: 'Deployment', name: 'db', namespace: 'other' }),
    want: [
      'spec.targetRef.kind: Unsupported value: "Deployment": supported values: "Service", "Gateway", "GatewayClass", "ServiceEntry"',
      'spec.targetRef.namespace: Invalid value: "other": cross namespace referencing is not currently supported',
      'spec.targetRef: Invalid value: "object": only one of targetRefs or workloadSelector can be set',
    ],
  },
  { name: 'unknown field', base: ap, mutate: (o) => (o.spec.rules[0].from[0].source.users = ['x']), want: ['spec.rules[0].from[0].source.users: Invalid value: "users": field not declared in schema'] },
];

t.test('validation table', async (t) => {
  for (const r of rows) {
    const o = r.base();
    r.mutate(o);
    t.same(errorsOf(o as any), r.want, r.name);
  }
});

t.test('through the API server: 422 with the field paths', async (t) => {
  const api = await startApi('shoalt-meshval-');
  t.teardown(() => api.close());
  await api.tokenFor('shop', 'default'); // creates the namespace
  const bad = ap();
  bad.spec.rules[0].from[0].source.ipBlocks = ['10.0.0.0/40'];
  (bad.spec as any).action = 'NOPE';
  const err: any = await api.client.create(R.authorizationpolicies, bad as any, { namespace: 'shop' }).catch((e) => e);
  t.equal(err.code, 422);
  t.same(err.status.details.causes.map((c: any) => c.field).sort(), ['spec.action', 'spec.rules[0].from[0].source.ipBlocks[0]']);
  const ok: any = await api.client.create(R.peerauthentications, pa() as any, { namespace: 'shop' });
  t.equal(ok.spec.mtls.mode, 'STRICT');
});
