// Pure parts of the service proxy: endpoint choice, rule text (table-driven), round robin, flags.
import t from 'tap';
import { servicePorts, usableEndpoints, type Endpoint, type ServicePort } from '../../node/service-proxy/model/servicemap.js';
import { fullSync, partialSync, serviceObjects, type RuleConfig } from '../../node/service-proxy/nftables/rules.js';
import { RoundRobin } from '../../node/service-proxy/userspace/balancer.js';
import { parseProxyFlags } from '../../node/service-proxy/flags.js';
import { pickFree } from '../../node/service-proxy/loadbalancer/allocator.js';
import { hostsOf as poolOf } from '../../lib/net/ip.js';

const ep = (ip: string, o: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 8080, ready: true, serving: true, terminating: false, nodeName: 'n1', ...o });
const sp = (o: Partial<ServicePort> = {}): ServicePort => ({
  id: 'default/web/tcp/80', svcKey: 'default/web', protocol: 'TCP', port: 80, clusterIPs: ['10.96.0.5'], externalIPs: [], loadBalancerIPs: [],
  internalLocal: false, externalLocal: false, endpoints: [ep('10.244.0.2'), ep('10.244.0.3')], ...o,
});
const cfg: RuleConfig = { table: 'shoal-proxy', nodeName: 'n1', clusterCidr: '10.244.0.0/16', nodePortAddresses: [] };

t.test('usable endpoints', async (t) => {
  const rows: { name: string; eps: Endpoint[]; local?: string; want: string[] }[] = [
    { name: 'ready only', eps: [ep('1.1.1.1'), ep('1.1.1.2', { ready: false, serving: false })], want: ['1.1.1.1'] },
    { name: 'terminating only when none ready', eps: [ep('1.1.1.1', { ready: false, serving: true, terminating: true }), ep('1.1.1.2', { ready: false, serving: false })], want: ['1.1.1.1'] },
    { name: 'terminating ignored when one is ready', eps: [ep('1.1.1.1', { ready: false, terminating: true }), ep('1.1.1.2')], want: ['1.1.1.2'] },
    { name: 'local', eps: [ep('1.1.1.1', { nodeName: 'n2' }), ep('1.1.1.2')], local: 'n1', want: ['1.1.1.2'] },
    { name: 'none', eps: [], want: [] },
  ];
  for (const r of rows) t.same(usableEndpoints(r.eps, r.local).map((e) => e.ip), r.want, r.name);
});

t.test('service ports from Service + EndpointSlice', async (t) => {
  const svc: any = { metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80, nodePort: 30080 }], sessionAffinity: 'ClientIP' } };
  const slice: any = { metadata: { name: 'web-x', namespace: 'default' }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.0.9'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n1' }] };
  const [p] = servicePorts(svc, [slice]);
  t.equal(p.id, 'default/web/tcp/http');
  t.equal(p.nodePort, 30080);
  t.equal(p.affinitySeconds, 10800, 'default ClientIP timeout');
  t.same(p.endpoints, [{ ip: '10.244.0.9', port: 8080, ready: false, serving: true, terminating: true, nodeName: 'n1' }]);
  t.same(servicePorts({ ...svc, spec: { ...svc.spec, clusterIP: 'None' } }, [slice]), [], 'headless: nothing');
});

t.test('rule text', async (t) => {
  const rows: { name: string; in: ServicePort; want: RegExp[]; not?: RegExp[] }[] = [
    { name: 'ClusterIP: random over two', in: sp(), want: [/add rule ip shoal-proxy svc-\w+-default\/web\/tcp\/80 numgen random mod 2 == 0 goto ep-\w+-default\/web\/tcp\/80__10\.244\.0\.2\/8080\nadd rule ip shoal-proxy svc-\w+-default\/web\/tcp\/80 goto ep-\w+-default\/web\/tcp\/80__10\.244\.0\.3\/8080\n/, /10\.96\.0\.5 \. tcp \. 80 : goto svc-/, /dnat to 10\.244\.0\.3:8080/, /ip saddr 10\.244\.0\.2 jump mark-for-masquerade/] },
    { name: 'no endpoints: reject', in: sp({ endpoints: [], nodePort: 30080 }), want: [/no-endpoint-services.*10\.96\.0\.5 \. tcp \. 80 : goto reject-chain/, /no-endpoint-nodeports.*tcp \. 30080 : goto reject-chain/], not: [/service-ips/, /dnat/] },
    { name: 'NodePort: external chain masquerades', in: sp({ nodePort: 30080 }), want: [/service-nodeports \{ tcp \. 30080 : goto ext-/, /ext-\S+ jump mark-for-masquerade/] },
    { name: 'affinity: sets with timeout', in: sp({ affinitySeconds: 60 }), want: [/add set .* aff-\S+ \{ type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; \}/, /update @aff-\S+ \{ ip saddr \}/, /ip saddr @aff-\S+ goto ep-/] },
    { name: 'eTP Local without local endpoints: drop', in: sp({ externalIPs: ['192.0.2.10'], externalLocal: true, endpoints: [ep('10.244.0.2', { nodeName: 'n2' })] }), want: [/add rule ip shoal-proxy ext-\S+ drop/, /192\.0\.2\.10 \. tcp \. 80 : goto ext-/] },
    { name: 'UDP', in: sp({ protocol: 'UDP', id: 'default/dns/udp/53' }), want: [/meta l4proto udp dnat to/, /\. udp \. 80 :/] },
  ];
  for (const r of rows) {
    const text = fullSync(cfg, [[r.in]]);
    for (const w of r.want) t.match(text, w, `${r.name}: ${w}`);
    for (const n of r.not ?? []) t.notMatch(text.replace(/^table[\s\S]*?\n}\n/m, ''), n, `${r.name}: not ${n}`);
  }
});

t.test('partial sync touches only the changed service', async (t) => {
  const other = sp({ id: 'default/other/tcp/80', svcKey: 'default/other', clusterIPs: ['10.96.0.6'] });
  const before = sp();
  const after = sp({ endpoints: [ep('10.244.0.2')] });
  const text = partialSync(cfg, [{ old: [before], cur: [after] }]);
  t.notMatch(text, /other/, 'the unchanged service is not mentioned');
  t.notMatch(text, /service-ips/, 'the unchanged dispatch element is left alone');
  t.notMatch(text, /__10\.244\.0\.2\/8080 /, 'the kept endpoint chain is left alone');
  t.notMatch(text, /element/, 'an endpoint change touches no set or map (nft fetches them all before an element update)');
  t.match(text, /flush chain ip shoal-proxy svc-/);
  t.match(text, /delete chain ip shoal-proxy ep-\S+__10\.244\.0\.3\/8080/, 'the removed endpoint chain goes');
  t.match(text, /add rule ip shoal-proxy svc-\S+ goto ep-\S+__10\.244\.0\.2\/8080\n/, 'one endpoint left: taken unconditionally');
  t.ok(text.indexOf('flush chain ip shoal-proxy svc-') < text.indexOf('delete chain'), 'the reference goes before the chain');
  t.equal(partialSync(cfg, [{ old: [before], cur: [before] }]), '', 'no change, no statement');
  t.equal(serviceObjects(cfg, [other]).elements.filter(([m]) => m === 'cluster-ips').length, 1);
  t.equal(partialSync(cfg, [{ old: [before], cur: [] }]).match(/^add /gm), null, 'a deleted service adds nothing');
});

t.test('round robin: exactly even, affinity pins', async (t) => {
  let now = 0;
  const rr = new RoundRobin(() => now);
  rr.update(sp({ endpoints: [ep('1.0.0.1'), ep('1.0.0.2'), ep('1.0.0.3'), ep('1.0.0.4', { ready: false, serving: false })] }));
  const c: Record<string, number> = {};
  for (let i = 0; i < 300; i++) { const e = rr.pick(`c${i}`)!; c[e.ip] = (c[e.ip] ?? 0) + 1; }
  t.same(c, { '1.0.0.1': 100, '1.0.0.2': 100, '1.0.0.3': 100 });
  rr.update(sp({ affinitySeconds: 10, endpoints: [ep('1.0.0.1'), ep('1.0.0.2')] }));
  const first = rr.pick('client')!.ip;
  for (let i = 0; i < 5; i++) t.equal(rr.pick('client')!.ip, first, 'pinned');
  now += 11_000;
  rr.pick('x');
  t.equal(rr.pick('client', new Set([`${first}:8080`]))!.ip === first, false, 'a failed endpoint is skipped');
});

t.test('flags: every bad one reported', async (t) => {
  const { config, problems } = parseProxyFlags(['--mode', 'ipvs', '--cluster-cidr', 'x', '--health-port', '70000', '--nodeport-addresses', '1.2.3.4', '--pod-bridge-interface', 'way-too-long-interface', '--table-suffix', 'BAD!'], {});
  t.equal(config, undefined);
  t.same(problems.map((p) => p.split(':')[0]), ['--mode', '--cluster-cidr', '--nodeport-addresses', '--pod-bridge-interface', '--table-suffix', '--health-port']);
  const ok = parseProxyFlags(['--node-name', 'n1', '--health-port', '0'], {});
  t.equal(ok.config?.mode, 'nftables');
  t.equal(ok.config?.healthPort, 0);
  t.equal(ok.config?.podBridgeInterface, '', 'ClusterIP traffic from any interface unless a pod bridge is named');
});

t.test('load balancer pool', async (t) => {
  t.same(poolOf('192.0.2.0/30'), ['192.0.2.1', '192.0.2.2']);
  t.equal(pickFree(poolOf('192.0.2.0/30'), new Set(['192.0.2.1'])), '192.0.2.2');
  t.equal(pickFree(poolOf('192.0.2.0/30'), new Set(['192.0.2.1', '192.0.2.2'])), undefined);
});

t.test('the numgen cascade picks each endpoint with probability 1/n', async (t) => {
  for (const n of [1, 2, 3, 5, 8]) {
    const eps = Array.from({ length: n }, (_, i) => ep(`10.244.1.${i + 2}`));
    const chains = serviceObjects(cfg, [sp({ endpoints: eps })]).chains;
    const rules = chains.get([...chains.keys()].find((c) => c.startsWith('svc-'))!)!;
    // walk the chain: each `numgen random mod k == 0` rule takes its endpoint with probability 1/k of what reaches it
    let reach = 1;
    const share = new Map<string, number>();
    for (const r of rules) {
      const m = /^(?:numgen random mod (\d+) == 0 )?goto (ep-\S+)$/.exec(r);
      if (!m) continue;
      const p = m[1] ? reach / Number(m[1]) : reach;
      share.set(m[2]!, (share.get(m[2]!) ?? 0) + p);
      reach -= p;
    }
    t.equal(share.size, n, `${n} endpoints, each reachable`);
    t.ok([...share.values()].every((p) => Math.abs(p - 1 / n) < 1e-12), `${n} endpoints: each 1/${n}`);
    t.ok(Math.abs(reach) < 1e-12, 'nothing falls through');
  }
});
