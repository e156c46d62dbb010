// The upstream NetworkPolicy truth-table e2e through a real cluster (issue 6): one `shoal up`, pods x/a … z/c
// serving TCP and UDP 80 and 81 behind Services; for each scenario every pod probes every pod by Service name
// and the observed 9×9 tables ({TCP,UDP}×{80,81}) must equal the model's (node/policy/model/policy.ts) for the
// pods, namespaces and policies the API holds, within CONVERGE_MS (polled, never a fixed sleep). Between
// scenarios every policy and label change is undone and the all-allowed tables must come back. Then the API's
// rejection of bad policies (field paths), and `shoal down` leaving nothing behind.
// Root only. One scenario: SHOAL_NETPOL_SCENARIO='<part of its name>' (see README.md).
import t from 'tap';
import { Fixture, NAMESPACES, PODS, R, leftovers, netpol } from './fixture.js';
import { deniedCount } from './grid.js';

const skip = process.getuid?.() !== 0 ? 'needs root (shoal up with pods in network namespaces, nftables); CI runs as root' : false;
const only = process.env.SHOAL_NETPOL_SCENARIO;

/** One change to the cluster after which the tables must converge to the model. */
interface Step {
  what: string;
  do: (f: Fixture) => Promise<void>;
}

/** A scenario: its steps; `allowsAll` when its final tables deny nothing (else that would be a test of nothing). */
interface Scenario {
  name: string;
  steps: Step[];
  allowsAll?: boolean;
}

const sel = (labels: Record<string, string>) => ({ matchLabels: labels });
const ns = (name: string) => sel({ ns: name });
/** Egress to the cluster DNS (UDP and TCP 53 in kube-system), as upstream adds beside an egress deny. */
const dnsEgress = (n: string, podSelector: object = {}) => netpol(n, 'allow-dns', {
  podSelector, policyTypes: ['Egress'],
  egress: [{ to: [{ namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'kube-system' }) }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }],
});
/** A scenario of one step: apply these policies. */
const apply = (name: string, policies: (f: Fixture) => any[], o: Partial<Scenario> = {}): Scenario => ({ name, steps: [{ what: 'applied', do: (f) => f.apply(policies(f)) }], ...o });
const ipOf = (f: Fixture, pod: string) => `${f.ips[pod]}/32`;

const scenarios: Scenario[] = [
  apply('default-deny ingress', () => [netpol('x', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })]),
  apply('default-deny egress (DNS to kube-system allowed)', () => [netpol('x', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] }), dnsEgress('x')]),
  apply('default-deny all (DNS to kube-system allowed)', () => [netpol('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }), dnsEgress('x')]),
  apply('allow-all over a default deny', () => [
    netpol('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    netpol('x', 'allow-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] }),
  ], { allowsAll: true }),
  apply('pod selector', () => [netpol('x', 'a-from-b', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod: 'b' }) }] }] })]),
  apply('namespace selector', () => [netpol('x', 'a-from-y', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: ns('y') }] }] })]),
  apply('pod and namespace selector in one peer (AND)', () => [netpol('x', 'a-from-yb', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: ns('y'), podSelector: sel({ pod: 'b' }) }] }] })]),
  apply('several peers (OR)', () => [netpol('x', 'a-from-many', {
    podSelector: sel({ pod: 'a' }),
    ingress: [{ from: [{ namespaceSelector: ns('y') }, { podSelector: sel({ pod: 'b' }) }, { namespaceSelector: ns('z'), podSelector: sel({ pod: 'c' }) }] }],
  })]),
  apply('matchExpressions', () => [
    netpol('x', 'a-expr', {
      podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a'] }] },
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['y'] }] }, podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] } }] }],
    }),
    netpol('y', 'b-expr', { podSelector: sel({ pod: 'b' }), ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'Exists' }, { key: 'pod', operator: 'NotIn', values: ['c'] }] } }] }] }),
  ]),
  apply('ports', () => [netpol('x', 'a-tcp-80', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80 }] }] })]),
  apply('named ports (ingress on the pod, egress per destination)', () => [
    netpol('x', 'a-named', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 'serve-81-tcp' }, { protocol: 'UDP', port: 'serve-80-udp' }] }] }),
    netpol('y', 'a-egress-named', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: ns('z') }], ports: [{ port: 'serve-80-tcp' }, { protocol: 'UDP', port: 'serve-81-udp' }] }] }),
    dnsEgress('y', sel({ pod: 'a' })),
  ]),
  apply('endPort', () => [netpol('x', 'a-ranges', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ protocol: 'TCP', port: 81, endPort: 90 }, { protocol: 'UDP', port: 70, endPort: 80 }] }] })]),
  apply('ipBlock', (f) => [netpol('x', 'a-from-ya', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ ipBlock: { cidr: ipOf(f, 'y/a') } }] }] })]),
  apply('ipBlock with except', (f) => [netpol('x', 'b-from-range', { podSelector: sel({ pod: 'b' }), ingress: [{ from: [{ ipBlock: { cidr: f.podCidr, except: [ipOf(f, 'y/b'), ipOf(f, 'z/c')] } }] }] })]),
  apply('stacked policies (union)', () => [
    netpol('x', 'a-from-b', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod: 'b' }) }] }] }),
    netpol('x', 'a-from-z', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: ns('z') }] }] }),
  ]),
  apply('overlapping policies', () => [
    netpol('x', 'all-tcp-80', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }),
    netpol('x', 'a-from-y', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: ns('y') }] }] }),
  ]),
  {
    name: 'updated policy',
    steps: [
      { what: 'from b', do: (f) => f.apply([netpol('x', 'a-from', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod: 'b' }) }] }] })]) },
      { what: 'updated to from c', do: (f) => f.apply([netpol('x', 'a-from', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod: 'c' }) }] }] })]) },
    ],
  },
  {
    name: 'updated pod labels',
    steps: [
      { what: 'nobody labelled', do: (f) => f.apply([netpol('x', 'a-from-updated', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod2: 'updated' }) }] }] })]) },
      { what: 'x/b labelled pod2=updated', do: (f) => f.label('x/b', { pod2: 'updated' }) },
      { what: 'label removed again', do: (f) => f.label('x/b', { pod2: null }) },
    ],
  },
  {
    name: 'updated namespace labels',
    steps: [
      { what: 'no namespace labelled', do: (f) => f.apply([netpol('x', 'a-from-ns2', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns2: 'updated' }) }] }] })]) },
      { what: 'y labelled ns2=updated', do: (f) => f.label('y', { ns2: 'updated' }) },
    ],
  },
  {
    name: 'deleted policy',
    steps: [
      { what: 'deny + allow from y', do: (f) => f.apply([netpol('x', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }), netpol('x', 'allow-y', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: ns('y') }] }] })]) },
      { what: 'allow deleted', do: (f) => f.remove('x', 'allow-y') },
    ],
  },
  apply('egress to a CIDR', (f) => [
    netpol('x', 'a-to-ya', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: ipOf(f, 'y/a') } }] }] }),
    dnsEgress('x', sel({ pod: 'a' })),
  ]),
  apply('a UDP-only policy does not allow TCP', () => [netpol('x', 'a-udp', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ protocol: 'UDP' }] }] })]),
  apply('ingress and egress controlled independently', () => [
    netpol('x', 'a-both', { podSelector: sel({ pod: 'a' }), policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: sel({ pod: 'b' }) }] }], egress: [{ to: [{ namespaceSelector: ns('y') }] }] }),
    dnsEgress('x', sel({ pod: 'a' })),
  ]),
  apply('a port name no container declares selects nothing', () => [netpol('x', 'a-unknown-name', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 'no-such-port' }, { protocol: 'UDP', port: 'serve-80-tcp' }] }] })]),
];

t.test('NetworkPolicy truth tables through a shoal up cluster', { skip }, async (t) => {
  const started = Date.now();
  const f = await Fixture.start((s) => t.comment(s));
  let closed = false;
  t.teardown(async () => {
    if (!closed) await f.close();
  });
  const scope = f.scope();
  t.comment(`cluster up with 9 agnhost pods in ${((Date.now() - started) / 1000).toFixed(1)}s; enforcer: ${f.enforcer}`);

  const baseline = await f.converge(30_000); // first round also warms DNS and the Services
  t.equal(deniedCount(baseline.expected), 0, 'with no policies the model allows everything');
  t.ok(baseline.ok, `all pairs reachable by Service name before any policy\n${baseline.report}`);
  if (!baseline.ok) return;

  const stats: string[] = [];
  for (const s of scenarios) {
    if (only && !s.name.includes(only)) continue;
    await t.test(s.name, async (t) => {
      for (const [i, step] of s.steps.entries()) {
        const t0 = Date.now();
        await step.do(f);
        const r = await f.converge();
        stats.push(`${s.name} / ${step.what}: ${r.ms} ms, ${r.rounds} rounds`);
        if (i === s.steps.length - 1) {
          if (s.allowsAll) t.equal(deniedCount(r.expected), 0, 'the model allows every pair');
          else t.ok(deniedCount(r.expected) > 0, `the model denies some pairs (${deniedCount(r.expected)} of 324)`);
        }
        t.ok(r.ok, `${step.what}: observed tables equal the model's (${Date.now() - t0} ms, ${r.rounds} rounds)\n${r.report}`);
        if (!r.ok) break;
      }
      if (s.name.startsWith('a port name')) t.same((await f.enforcerWarnings()).map((e: any) => e.message), [], 'no Warning Event from the enforcer');
      await f.reset();
      const back = await f.converge();
      t.ok(back.ok && deniedCount(back.expected) === 0, `policies removed: every pair reachable again (${back.ms} ms)\n${back.report}`);
    });
  }
  t.comment(`convergence per step (policy write → tables equal the model, probe bound ${process.env.SHOAL_NETPOL_PROBE_MS ?? 1000} ms):\n${stats.join('\n')}`);

  await t.test('the API rejects bad NetworkPolicies naming the field', async (t) => {
    const bad: { name: string; spec: Record<string, unknown>; field: string }[] = [
      { name: 'invalid CIDR', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }, field: 'spec.ingress[0].from[0].ipBlock.cidr' },
      { name: 'invalid CIDR (egress)', spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: 'ten.0.0.0/8' } }] }] }, field: 'spec.egress[0].to[0].ipBlock.cidr' },
      { name: 'except outside its cidr', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24', '10.1.0.0/24'] } }] }] }, field: 'spec.ingress[0].from[0].ipBlock.except[1]' },
      { name: 'endPort without port', spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP', endPort: 90 }] }] }, field: 'spec.ingress[0].ports[0].port' },
      { name: 'endPort below port', spec: { podSelector: {}, egress: [{ ports: [{ port: 80 }, { protocol: 'UDP', port: 90, endPort: 80 }] }] }, field: 'spec.egress[0].ports[1].endPort' },
      { name: 'unknown protocol', spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP', port: 80 }] }] }, field: 'spec.ingress[0].ports[0].protocol' },
    ];
    for (const b of bad) {
      const err = await f.api.create(R.policies, netpol('x', 'bad', b.spec), { namespace: 'x' }).then(() => undefined, (e) => e as { code: number; status: any; message: string });
      t.equal(err?.code, 422, `${b.name}: 422 Invalid`);
      t.ok((err?.status?.details?.causes ?? []).some((c: any) => c.field === b.field), `${b.name}: a cause names ${b.field} (${JSON.stringify(err?.status?.details?.causes)})`);
      t.match(err?.message ?? '', b.field, `${b.name}: the message names the field`);
    }
    t.same((await f.api.list(R.policies, { namespace: 'x' })).items, [], 'none was stored');
  });

  const pods = (await f.api.list(R.pods)).items.filter((p) => NAMESPACES.includes(p.metadata.namespace as never)).length;
  t.equal(pods, PODS.length, 'the workload is still whole');
  closed = true;
  await f.close();
  t.same(await leftovers(scope, f.ownTable), [], 'shoal down left no netns, link or nftables table of the cluster');
  t.comment(`whole file: ${((Date.now() - started) / 1000).toFixed(1)}s`);
});
