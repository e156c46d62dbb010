// A bookinfo-like static config for the explain/routes tests (unit, CLI and the real sidecar): the client
// `productpage` (foo/productpage-0) and the `reviews` sidecar of v2, with VirtualService + DestinationRule:
//   http[0] header end-user: jason → v2 (consistent hash on x-user in v2's policy)
//   http[1] uri prefix /api → rewrite /v1 → v1
//   http[2] v1 90 / v3 10 (v3 has no sidecar: plaintext)
// and on reviews-v2 an ALLOW policy for productpage's identity on GET /ratings*, STRICT mTLS.
import { ConfigStore } from '../../proxy/config/store.js';
import { TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD, type StaticConfigFile, type Workload } from '../../proxy/config/types.js';

export const CLIENT_IP = '10.244.0.5';
export const V1_IP = '10.244.0.11';
export const V2_IP = '10.244.0.12';
export const V3_IP = '10.244.0.13';
export const REVIEWS_VIP = '10.96.0.20';

const ep = (ip: string, version: string, mesh: boolean) => ({
  address: ip, ports: [{ name: 'http', port: 9080 }], podName: `reviews-${version}-0`, namespace: 'foo', serviceAccount: 'reviews',
  identity: mesh ? 'spiffe://cluster.local/ns/foo/sa/reviews' : '', mesh, labels: { app: 'reviews', version }, ready: true,
});

/** The routing objects (Kubernetes shape). */
export function routing(weights: [number, number] = [90, 10]): NonNullable<StaticConfigFile['routing']> {
  return [
    { kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'foo', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: {
      hosts: ['reviews'],
      http: [
        { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
        { name: 'api', match: [{ uri: { prefix: '/api' } }, { uri: { regex: '/v[0-9]+/.*' } }], rewrite: { uri: '/v1' }, route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
        { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: weights[0] }, { destination: { host: 'reviews', subset: 'v3' }, weight: weights[1] }] },
      ],
    } },
    { kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'foo', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: {
      host: 'reviews',
      trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } },
        { name: 'v3', labels: { version: 'v3' } },
      ],
    } },
  ];
}

function base(workload: Workload, weights?: [number, number]): StaticConfigFile {
  return {
    services: [
      { name: 'reviews', namespace: 'foo', hostname: 'reviews.foo.svc.cluster.local', vips: [REVIEWS_VIP], ports: [{ name: 'http', port: 9080, targetPort: 9080, protocol: 'TCP', appProtocol: '' }] },
      { name: 'ratings', namespace: 'foo', hostname: 'ratings.foo.svc.cluster.local', vips: ['10.96.0.21'], ports: [{ name: 'http', port: 9080, targetPort: 9080, protocol: 'TCP', appProtocol: '' }] },
    ],
    endpoints: [
      { service: 'foo/reviews', endpoints: [ep(V1_IP, 'v1', true), ep(V2_IP, 'v2', true), ep(V3_IP, 'v3', false)] },
      { service: 'foo/ratings', endpoints: [] },
    ],
    workload,
    routing: routing(weights),
  };
}

/** productpage's sidecar config (overridable workload fields: ip, for a sidecar in a test netns). */
export function clientConfig(o: { ip?: string; weights?: [number, number] } = {}): StaticConfigFile {
  return base({
    name: 'productpage-0', namespace: 'foo', serviceAccount: 'productpage', identity: 'spiffe://cluster.local/ns/foo/sa/productpage',
    ip: o.ip ?? CLIENT_IP, labels: { app: 'productpage' }, peerAuthentication: { mode: 'PERMISSIVE', portModes: {}, sources: [] }, authorization: [],
  }, o.weights);
}

/** reviews-v2's sidecar config: STRICT, one ALLOW policy. */
export function serverConfig(o: { ip?: string } = {}): StaticConfigFile {
  return base({
    name: 'reviews-v2-0', namespace: 'foo', serviceAccount: 'reviews', identity: 'spiffe://cluster.local/ns/foo/sa/reviews',
    ip: o.ip ?? V2_IP, labels: { app: 'reviews', version: 'v2' }, peerAuthentication: { mode: 'STRICT', portModes: {}, sources: ['foo/default'] },
    authorization: [{ name: 'productpage-get', namespace: 'foo', action: 'ALLOW', rules: [{
      from: [{ source: { principals: ['cluster.local/ns/foo/sa/productpage'] } }], to: [{ operation: { methods: ['GET'], paths: ['/ratings*'] } }],
    }] }],
  });
}

/** A ConfigStore with a static file's content applied as the file source applies it. */
export function storeOf(f: StaticConfigFile): ConfigStore {
  const s = new ConfigStore();
  const errs = [
    ...s.apply(TYPE_SERVICE, 'v1', f.services ?? []),
    ...s.apply(TYPE_ENDPOINTS, 'v1', f.endpoints ?? []),
    ...s.apply(TYPE_WORKLOAD, 'v1', [f.workload]),
    ...s.apply(TYPE_ROUTES, 'v1', (f.routing ?? []).map((o) => ({
      kind: o.kind, namespace: o.metadata.namespace ?? 'default', name: o.metadata.name, creationTimestamp: o.metadata.creationTimestamp ?? '', resourceVersion: '', specJson: JSON.stringify(o.spec),
    }))),
  ];
  if (errs.length) throw new Error(errs.join('; '));
  return s;
}
