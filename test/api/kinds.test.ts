// Every kind: its fixture admits cleanly, defaulting is idempotent, and the schema walk rejects an
// unknown field at depth with its full path.

import t from 'tap';
import { admit } from '../../api/admit.js';
import { formatFieldError } from '../../api/field.js';
import { registry } from '../../api/registry.js';
import { fixture, fixtures } from './fixtures/manifests.js';

t.test('every registered kind has a fixture that admits without errors', async (t) => {
  for (const rt of registry.all()) {
    const key = `${rt.group}/${rt.kind}`;
    t.ok(fixtures[key], `fixture for ${key}`);
    const r = admit(fixture(key));
    t.ok(r.ok, `${key} admits${r.ok ? '' : `: ${r.error.message}`}`);
  }
});

t.test('defaults are idempotent for every kind', async (t) => {
  for (const rt of registry.all()) {
    const once = fixture(`${rt.group}/${rt.kind}`);
    rt.applyDefaults(once);
    const twice = structuredClone(once);
    rt.applyDefaults(twice);
    t.same(twice, once, `${rt.kind} defaults twice == once`);
  }
});

t.test('defaults do not throw on garbage shapes', async (t) => {
  const garbage = [{ spec: 'x' }, { spec: [] }, { spec: { containers: 'x', template: 5, ports: [null, 'a'] } }, { metadata: 3 }];
  for (const rt of registry.all())
    for (const g of garbage) {
      const o = { apiVersion: 'v1', kind: rt.kind, metadata: { name: 'x' }, ...structuredClone(g) } as any;
      t.doesNotThrow(() => rt.applyDefaults(o), `${rt.kind} defaults on ${JSON.stringify(g)}`);
      t.doesNotThrow(() => rt.validate(o), `${rt.kind} validate on ${JSON.stringify(g)}`);
    }
});

const unknownRows: { key: string; mutate: (o: any) => void; want: string }[] = [
  { key: '/Pod', mutate: (o) => (o.spec.containers[0].imagee = 'x'), want: 'spec.containers[0].imagee: Invalid value: "imagee": field not declared in schema' },
  {
    key: 'apps/Deployment',
    mutate: (o) => (o.spec.template.spec.containers[0].livenessProbe.httpGet.portt = 1),
    want: 'spec.template.spec.containers[0].livenessProbe.httpGet.portt: Invalid value: "portt": field not declared in schema',
  },
  { key: '/Service', mutate: (o) => (o.spec.ports[1].targetport = 1), want: 'spec.ports[1].targetport: Invalid value: "targetport": field not declared in schema' },
  { key: '/ConfigMap', mutate: (o) => (o.dat = {}), want: 'dat: Invalid value: "dat": field not declared in schema' },
  { key: '/Secret', mutate: (o) => (o.metadata.label = {}), want: 'metadata.label: Invalid value: "label": field not declared in schema' },
  {
    key: 'networking.istio.io/VirtualService',
    mutate: (o) => (o.spec.http[1].route[0].destination.subsett = 'v1'),
    want: 'spec.http[1].route[0].destination.subsett: Invalid value: "subsett": field not declared in schema',
  },
  {
    key: 'networking.istio.io/DestinationRule',
    mutate: (o) => (o.spec.trafficPolicy.outlierDetection.consecutive5xx = 1),
    want: 'spec.trafficPolicy.outlierDetection.consecutive5xx: Invalid value: "consecutive5xx": field not declared in schema',
  },
  {
    key: 'gateway.networking.k8s.io/HTTPRoute',
    mutate: (o) => (o.spec.rules[0].backendRefs[1].wieght = 1),
    want: 'spec.rules[0].backendRefs[1].wieght: Invalid value: "wieght": field not declared in schema',
  },
  {
    key: 'networking.k8s.io/NetworkPolicy',
    mutate: (o) => (o.spec.ingress[0].from[1].ipBlock.exept = []),
    want: 'spec.ingress[0].from[1].ipBlock.exept: Invalid value: "exept": field not declared in schema',
  },
  {
    key: 'security.istio.io/AuthorizationPolicy',
    mutate: (o) => (o.spec.rules[0].to[0].operation.method = ['GET']),
    want: 'spec.rules[0].to[0].operation.method: Invalid value: "method": field not declared in schema',
  },
];

t.test('unknown fields are rejected with their path at any depth', async (t) => {
  for (const row of unknownRows) {
    const o = fixture(row.key);
    row.mutate(o);
    const rt = registry.byKind(o.apiVersion, o.kind)!;
    rt.applyDefaults(o);
    t.same(rt.validate(o).map(formatFieldError), [row.want], row.want);
  }
});
