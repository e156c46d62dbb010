// The DNS server for real: an API server in-process, the DNS server on 127.0.0.1 with a free port, dnsmasq
// as its upstream, and `dig` asking for every record form of the Kubernetes DNS spec, over UDP and TCP.

import { waitFor } from '../wait.js';
import t from 'tap';
import { startCluster } from '../client/fixture.js';
import { startDnsServer, type DnsServer } from '../../dns/server.js';
import { dig, startDnsmasq } from './helpers.js';

const ZONE = 'cluster.local';
const svcRef = { apiVersion: 'v1', plural: 'services', namespaced: true };
const sliceRef = { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true };
const podRef = { apiVersion: 'v1', plural: 'pods', namespaced: true };

function slice(name: string, svc: string, ips: [string, boolean, string?][], ports: { name: string; port: number; protocol?: string }[]) {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4', endpoints: ips.map(([ip, ready, hostname]) => ({ addresses: [ip], conditions: { ready }, ...(hostname ? { hostname } : {}) })), ports,
  };
}


t.test('cluster DNS answers by the Kubernetes DNS spec', async (t) => {
  const cluster = await startCluster('shoalt-dns-');
  t.teardown(() => cluster.close());
  const upstream = await startDnsmasq('shoalt-dns-up-', '192.0.2.7 www.example.test\n');
  t.teardown(() => upstream.close());
  const c = cluster.client();
  await c.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'metrics', port: 81, protocol: 'UDP' }], selector: { app: 'web' } } });
  await c.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }], selector: { app: 'db' } } });
  await c.create(sliceRef, slice('db-1', 'db', [['10.244.0.5', true, 'db-0'], ['10.244.0.6', true], ['10.244.0.7', false]], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  await c.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' } });
  await c.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'far', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'www.example.test' } });
  const pod = await c.create(podRef, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: { hostname: 'box', subdomain: 'db', containers: [{ name: 'c', image: 'x' }] } }) as { metadata: { resourceVersion: string } };
  await c.updateStatus(podRef, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default', resourceVersion: pod.metadata.resourceVersion }, status: { podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: 'True' }] } });

  const seRef = { apiVersion: 'networking.istio.io/v1', plural: 'serviceentries', namespaced: true };
  await c.create(seRef, { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'pay', namespace: 'default' }, spec: { hosts: ['pay.example.test'], addresses: ['10.216.0.20'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', endpoints: [{ address: '10.213.0.9' }] } } as never);
  await c.create(seRef, { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'vm', namespace: 'default' }, spec: { hosts: ['vm.example.test'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', endpoints: [{ address: '10.213.0.7' }, { address: '10.213.0.8' }] } } as never);
  const server: DnsServer = await startDnsServer({
    listenHost: '127.0.0.1', listenPort: 0, zone: ZONE, ttl: 5, podsInsecure: true, upstreams: [{ host: '127.0.0.1', port: upstream.port }],
    forwardTimeoutMs: 1000, http: { health: '127.0.0.1:0', ready: '127.0.0.1:0', metrics: '127.0.0.1:0' }, cacheEntries: 10000,
  }, c);
  t.teardown(() => server.close());
  const port = server.port;
  await server.waitForSync(10_000);
  const ready = await fetch(`http://${server.http.ready}/ready`);
  t.equal(ready.status, 200, 'ready after sync');

  const soa = (d: { authority: string[] }) => d.authority.some((l) => l.startsWith(`${ZONE}. 5 IN SOA ns.dns.${ZONE}. hostmaster.${ZONE}.`));
  const rows: { name: string; args: string[]; status: string; answer?: string[]; answerSet?: string[]; soa?: boolean; additional?: string[] }[] = [
    { name: 'dns-version TXT', args: [`dns-version.${ZONE}`, 'TXT'], status: 'NOERROR', answer: [`dns-version.${ZONE}. 5 IN TXT "1.1.0"`] },
    { name: 'ClusterIP A', args: [`web.default.svc.${ZONE}`, 'A'], status: 'NOERROR', answer: [`web.default.svc.${ZONE}. 5 IN A 10.96.0.20`] },
    { name: 'case-insensitive', args: [`WeB.DEFAULT.svc.Cluster.Local`, 'A'], status: 'NOERROR', answer: [`WeB.DEFAULT.svc.Cluster.Local. 5 IN A 10.96.0.20`] },
    { name: 'ClusterIP over TCP', args: ['+tcp', `web.default.svc.${ZONE}`, 'A'], status: 'NOERROR', answer: [`web.default.svc.${ZONE}. 5 IN A 10.96.0.20`] },
    { name: 'ClusterIP AAAA: no data', args: [`web.default.svc.${ZONE}`, 'AAAA'], status: 'NOERROR', answer: [], soa: true },
    { name: 'named port SRV', args: [`_http._tcp.web.default.svc.${ZONE}`, 'SRV'], status: 'NOERROR', answer: [`_http._tcp.web.default.svc.${ZONE}. 5 IN SRV 0 100 80 web.default.svc.${ZONE}.`], additional: [`web.default.svc.${ZONE}. 5 IN A 10.96.0.20`] },
    { name: 'service PTR', args: ['-x', '10.96.0.20'], status: 'NOERROR', answer: [`20.0.96.10.in-addr.arpa. 5 IN PTR web.default.svc.${ZONE}.`] },
    { name: 'unknown service: NXDOMAIN + SOA', args: [`nope.default.svc.${ZONE}`, 'A'], status: 'NXDOMAIN', answer: [], soa: true },
    { name: 'empty non-terminal: no data', args: [`default.svc.${ZONE}`, 'A'], status: 'NOERROR', answer: [], soa: true },
    { name: 'headless: ready endpoints only', args: [`db.default.svc.${ZONE}`, 'A'], status: 'NOERROR', answerSet: [`db.default.svc.${ZONE}. 5 IN A 10.244.0.5`, `db.default.svc.${ZONE}. 5 IN A 10.244.0.6`] },
    { name: 'headless hostname', args: [`db-0.db.default.svc.${ZONE}`, 'A'], status: 'NOERROR', answer: [`db-0.db.default.svc.${ZONE}. 5 IN A 10.244.0.5`] },
    { name: 'headless per-endpoint SRV', args: [`_pg._tcp.db.default.svc.${ZONE}`, 'SRV'], status: 'NOERROR', answerSet: [`_pg._tcp.db.default.svc.${ZONE}. 5 IN SRV 0 100 5432 db-0.db.default.svc.${ZONE}.`, `_pg._tcp.db.default.svc.${ZONE}. 5 IN SRV 0 100 5432 10-244-0-6.db.default.svc.${ZONE}.`] },
    { name: 'endpoint PTR', args: ['-x', '10.244.0.5'], status: 'NOERROR', answer: [`5.0.244.10.in-addr.arpa. 5 IN PTR db-0.db.default.svc.${ZONE}.`] },
    { name: 'not-ready endpoint has no name', args: [`10-244-0-7.db.default.svc.${ZONE}`, 'A'], status: 'NXDOMAIN', answer: [], soa: true },
    { name: 'pod hostname.subdomain', args: [`box.db.default.svc.${ZONE}`, 'A'], status: 'NOERROR', answer: [`box.db.default.svc.${ZONE}. 5 IN A 10.244.0.9`] },
    { name: 'ExternalName in cluster: CNAME followed', args: [`ext.default.svc.${ZONE}`, 'A'], status: 'NOERROR', answer: [`ext.default.svc.${ZONE}. 5 IN CNAME web.default.svc.${ZONE}.`, `web.default.svc.${ZONE}. 5 IN A 10.96.0.20`] },
    { name: 'ExternalName outside: CNAME', args: [`far.default.svc.${ZONE}`, 'CNAME'], status: 'NOERROR', answer: [`far.default.svc.${ZONE}. 5 IN CNAME www.example.test.`] },
    { name: 'pods insecure', args: [`10-244-0-42.default.pod.${ZONE}`, 'A'], status: 'NOERROR', answer: [`10-244-0-42.default.pod.${ZONE}. 5 IN A 10.244.0.42`] },
    { name: 'apex SOA', args: [ZONE, 'SOA'], status: 'NOERROR' },
    { name: 'forwarded to dnsmasq', args: ['www.example.test', 'A'], status: 'NOERROR', answer: ['www.example.test. 30 IN A 192.0.2.7'] },
    { name: 'ServiceEntry host: its address', args: ['pay.example.test', 'A'], status: 'NOERROR', answer: ['pay.example.test. 5 IN A 10.216.0.20'] },
    { name: 'ServiceEntry without addresses: STATIC endpoints', args: ['vm.example.test', 'A'], status: 'NOERROR', answerSet: ['vm.example.test. 5 IN A 10.213.0.7', 'vm.example.test. 5 IN A 10.213.0.8'] },
  ];
  for (const r of rows) {
    const d = await dig(port, ...r.args);
    t.equal(d.status, r.status, `${r.name}: status`);
    if (r.answer) t.same(d.answer, r.answer, `${r.name}: answer`);
    if (r.answerSet) t.same([...d.answer].sort(), [...r.answerSet].sort(), `${r.name}: answer set`);
    if (r.soa) t.ok(soa(d), `${r.name}: SOA in authority`);
    if (r.additional) t.same(d.additional, r.additional, `${r.name}: additional`);
    if (d.status === 'NOERROR' && !r.args.includes('www.example.test')) t.ok(d.flags.includes('aa'), `${r.name}: authoritative`);
  }

  t.test('headless answers rotate', async (t) => {
    const firsts = new Set<string>();
    for (let i = 0; i < 4; i++) firsts.add((await dig(port, `db.default.svc.${ZONE}`, 'A')).answer[0]);
    t.equal(firsts.size, 2, 'both endpoints come first in turn');
  });

  t.test('changes invalidate exactly the changed names', async (t) => {
    await c.patch(svcRef, 'web', { spec: { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] } }, { type: 'merge', namespace: 'default' });
    await waitFor('SRV port 8080', async () => (await dig(port, `_http._tcp.web.default.svc.${ZONE}`, 'SRV')).answer[0]?.includes(' 8080 ') ?? false);
    await c.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nope', namespace: 'default' }, spec: { clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21'], ports: [{ port: 1 }] } });
    await waitFor('new service', async () => (await dig(port, `nope.default.svc.${ZONE}`, 'A')).status === 'NOERROR');
    t.same((await dig(port, `nope.default.svc.${ZONE}`, 'A')).answer, [`nope.default.svc.${ZONE}. 5 IN A 10.96.0.21`]);
    await c.delete(svcRef, 'nope', { namespace: 'default' });
    await waitFor('deleted service', async () => (await dig(port, `nope.default.svc.${ZONE}`, 'A')).status === 'NXDOMAIN');
    // the CNAME chain follows its target's change
    t.same((await dig(port, `ext.default.svc.${ZONE}`, 'A')).answer.length, 2);
    await c.delete(svcRef, 'web', { namespace: 'default' });
    await waitFor('chain without target', async () => (await dig(port, `ext.default.svc.${ZONE}`, 'A')).answer.length === 1);
    t.pass('invalidation followed every change');
  });

  t.test('forwarding is cached', async (t) => {
    const before = upstream.queriesFor('www.example.test');
    t.ok(before >= 1, 'the first query reached dnsmasq');
    for (let i = 0; i < 3; i++) t.equal((await dig(port, 'www.example.test', 'A')).status, 'NOERROR');
    t.equal(upstream.queriesFor('www.example.test'), before, 'no further upstream queries');
    const d = await dig(port, 'www.example.test', 'A');
    const ttl = Number(d.answer[0].split(' ')[1]);
    t.ok(ttl <= 30 && ttl >= 25, `TTL counts down from 30 (${ttl})`);
  });

  t.test('truncation and EDNS0', async (t) => {
    const names = Array.from({ length: 40 }, (_, i) => [`10.244.1.${i + 1}`, true] as [string, boolean]);
    await c.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 1 }] } });
    await c.create(sliceRef, slice('big-1', 'big', names, []));
    await waitFor('big service', async () => (await dig(port, '+noedns', '+ignore', `big.default.svc.${ZONE}`, 'A')).flags.includes('tc'));
    const udp = await dig(port, '+noedns', '+ignore', `big.default.svc.${ZONE}`, 'A');
    t.ok(udp.flags.includes('tc'), 'TC over UDP without EDNS (answer > 512 bytes)');
    t.equal(udp.answer.length, 0);
    const edns = await dig(port, '+bufsize=1232', `big.default.svc.${ZONE}`, 'A');
    t.notOk(edns.flags.includes('tc'), 'fits with EDNS 1232');
    t.equal(edns.answer.length, 40);
    t.match(edns.raw, /OPT PSEUDOSECTION/, 'OPT record in the answer');
    const tcp = await dig(port, '+noedns', `big.default.svc.${ZONE}`, 'A');
    t.equal(tcp.answer.length, 40, 'dig retried over TCP and got all 40');
  });

  t.test('metrics and health', async (t) => {
    const h = await fetch(`http://${server.http.health}/health`);
    t.equal(h.status, 200);
    const m = await (await fetch(`http://${server.http.metrics}/metrics`)).text();
    t.match(m, /coredns_dns_requests_total\{[^}]*proto="udp"[^}]*type="A"\} \d+/);
    t.match(m, /coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"[^}]*\} \d+/);
    t.match(m, /coredns_cache_hits_total\{[^}]*\} [1-9]/);
    t.match(m, /coredns_forward_requests_total\{to="127\.0\.0\.1:\d+"\} [1-9]/);
  });
});
