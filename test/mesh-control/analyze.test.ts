// control-plane/mesh/analyze: Istio's analyzer messages from API objects, table-driven ({objects} → the
// formatted lines), and the namespace scope.
import t from 'tap';
import { analyze, formatMessage, type AObject } from '../../control-plane/mesh/analyze/analyze.js';

const svc = (name: string, ns = 'default'): AObject => ({ kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ port: 9080 }] } });
const vs = (name: string, spec: any, ns = 'default', ts = '2026-01-01T00:00:00Z'): AObject => ({ kind: 'VirtualService', metadata: { name, namespace: ns, creationTimestamp: ts }, spec });
const dr = (name: string, host: string, subsets: string[], ns = 'default'): AObject => ({ kind: 'DestinationRule', metadata: { name, namespace: ns }, spec: { host, subsets: subsets.map((s) => ({ name: s, labels: { version: s } })) } });
const split = (a: string, b: string, wa = 90, wb = 10) => ({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: a }, weight: wa }, { destination: { host: 'reviews', subset: b }, weight: wb }] }] });

const rows: { name: string; input: Parameters<typeof analyze>[0]; want: string[] }[] = [
  { name: 'clean', input: { services: [svc('reviews')], virtualServices: [vs('reviews', split('v1', 'v2'))], destinationRules: [dr('reviews', 'reviews', ['v1', 'v2'])] }, want: [] },
  {
    name: 'unknown subset (IST0101)',
    input: { services: [svc('reviews')], virtualServices: [vs('reviews', split('v1', 'v3'))], destinationRules: [dr('reviews', 'reviews', ['v1', 'v2'])] },
    want: ['Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v3"'],
  },
  {
    name: 'subset without any DestinationRule; FQDN host resolves',
    input: { services: [svc('reviews')], virtualServices: [vs('reviews', { hosts: ['reviews.default.svc.cluster.local'], http: [{ route: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v1' } }] }] })] },
    want: ['Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews.default.svc.cluster.local+v1"'],
  },
  {
    name: 'destination host is no Service (IST0101); a ServiceEntry host is known',
    input: {
      services: [svc('reviews')],
      serviceEntries: [{ metadata: { name: 'ext', namespace: 'default' }, spec: { hosts: ['*.example.com'] } }],
      virtualServices: [vs('reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'ratingz' }, weight: 50 }, { destination: { host: 'api.example.com' }, weight: 50 }] }] })],
    },
    want: ['Error [IST0101] (VirtualService default/reviews) Referenced host not found: "ratingz"'],
  },
  {
    name: 'conflicting mesh VirtualServices (IST0109); a gateway-only one does not conflict',
    input: {
      services: [svc('reviews')],
      virtualServices: [
        vs('reviews-a', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] }),
        vs('reviews-b', { hosts: ['reviews.default.svc.cluster.local'], http: [{ route: [{ destination: { host: 'reviews' } }] }] }, 'default', '2026-02-01T00:00:00Z'),
        vs('reviews-gw', { hosts: ['reviews'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'reviews' } }] }] }),
      ],
    },
    want: [
      'Error [IST0109] (VirtualService default/reviews-a) The VirtualServices default/reviews-a,default/reviews-b associated with mesh gateway define the same host "reviews.default.svc.cluster.local" which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
      'Error [IST0109] (VirtualService default/reviews-b) The VirtualServices default/reviews-a,default/reviews-b associated with mesh gateway define the same host "reviews.default.svc.cluster.local" which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
    ],
  },
  {
    name: 'weights not summing to 100 and a bad regex that slipped in (IST0106)',
    input: {
      services: [svc('reviews')], destinationRules: [dr('reviews', 'reviews', ['v1', 'v2'])],
      virtualServices: [vs('reviews', { hosts: ['reviews'], http: [{ match: [{ uri: { regex: '(?=x)' } }], route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 10 }] }] })],
    },
    want: [
      'Error [IST0106] (VirtualService default/reviews) Schema validation error: spec.http[0].match[0].uri.regex: invalid regex: lookahead is not supported by RE2',
      'Error [IST0106] (VirtualService default/reviews) Schema validation error: spec.http[0].route: total destination weight 90 != 100',
    ],
  },
  {
    name: 'DestinationRule without a Service (Warning IST0101)',
    input: { services: [svc('reviews')], destinationRules: [dr('ghost', 'ghost', ['v1'])] },
    want: ['Warning [IST0101] (DestinationRule default/ghost) Referenced host not found: "ghost"'],
  },
  {
    name: 'HTTPRoute: Service parent and backend missing',
    input: {
      services: [svc('reviews')],
      httpRoutes: [{ metadata: { name: 'split', namespace: 'default' }, spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'reviewz' }, { name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'reviews', port: 9080, weight: 70 }, { name: 'reviews-v9', port: 9080, weight: 30 }] }],
      } }],
    },
    want: [
      'Error [IST0101] (HTTPRoute default/split) Referenced host not found: "reviews-v9.default"',
      'Error [IST0101] (HTTPRoute default/split) Referenced service not found: "reviewz.default"',
    ],
  },
  {
    name: 'cross-namespace host by FQDN; another namespace\'s short name is not it',
    input: {
      services: [svc('ratings', 'shop')],
      virtualServices: [vs('r', { hosts: ['ratings.shop.svc.cluster.local'], http: [{ route: [{ destination: { host: 'ratings.shop.svc.cluster.local' }, weight: 50 }, { destination: { host: 'ratings' }, weight: 50 }] }] })],
    },
    want: ['Error [IST0101] (VirtualService default/r) Referenced host not found: "ratings"'],
  },
];

for (const r of rows) t.test(r.name, async (t) => t.same(analyze(r.input).map(formatMessage), r.want));

t.test('namespace scope: only objects in the namespaces, every Service still known', async (t) => {
  const input = {
    services: [svc('reviews', 'a')],
    virtualServices: [vs('x', { hosts: ['x'], http: [{ route: [{ destination: { host: 'nope' } }] }] }, 'b'), vs('y', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'nope' } }] }] }, 'a')],
  };
  t.same(analyze({ ...input, namespaces: ['a'] }).map((m) => m.origin), ['VirtualService a/y']);
  t.same(analyze({ ...input, namespaces: ['b'] }).map((m) => [m.origin, m.field]), [['VirtualService b/x', 'spec.http[0].route[0].destination.host']]);
  t.equal(analyze(input).length, 2);
});
