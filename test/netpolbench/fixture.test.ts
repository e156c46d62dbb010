// The benchmark's fixture must measure what it claims: checked against node/policy's model (the oracle
// the enforcer's own tests use). For each N, the background policies alone never admit the client to the
// server (so deleting allow-client denies), allow-client does admit it, the server stays ingress-isolated,
// the client is never egress-isolated, and the server's allow list grows with N (a non-trivial chain).

import t from 'tap';
import { computePolicy, podInfo, namespaceInfo, allowed } from '../../node/policy/model/policy.js';
import { allowClient, backgroundPolicy, namespaces, pods, sentinelDenyServer, serverService, SERVER_PORT, APP_NS } from '../../bench/netpol/fixture.js';

const podObjs = pods().map((p, i) => ({ ...p, status: { podIP: `10.244.9.${i + 2}` } }));
const ip = (name: string) => podObjs.find((p) => p.metadata!.name === name)!.status.podIP;
const model = (n: number, extra: any[] = []) =>
  computePolicy(podObjs.map(podInfo), namespaces().map(namespaceInfo), [...Array.from({ length: n }, (_, i) => backgroundPolicy(i)), ...extra]);

const rows = [
  { n: 1, withAllow: false, wantAllowed: false },
  { n: 1, withAllow: true, wantAllowed: true },
  { n: 10, withAllow: false, wantAllowed: false },
  { n: 10, withAllow: true, wantAllowed: true },
  { n: 100, withAllow: false, wantAllowed: false },
  { n: 1000, withAllow: false, wantAllowed: false },
  { n: 1000, withAllow: true, wantAllowed: true },
];
for (const r of rows) {
  t.test(`${r.n} background policies, allow-client ${r.withAllow ? 'present' : 'absent'}`, async (t) => {
    const m = model(r.n, r.withAllow ? [allowClient()] : []);
    t.equal(allowed(m, ip('client'), ip('server'), 'TCP', SERVER_PORT), r.wantAllowed, 'client → server:8080');
    const server = m.find((p) => p.key === `${APP_NS}/server`)!;
    const client = m.find((p) => p.key === `${APP_NS}/client`)!;
    t.ok(server.ingress, 'server is ingress-isolated');
    t.equal(client.egress, undefined, 'client is not egress-isolated');
    t.ok(server.ingress!.length >= Math.ceil(r.n / 4), `server allow list grows with N (${server.ingress!.length})`);
    const open = m.find((p) => p.key === `${APP_NS}/server-open`)!;
    t.equal(open.ingress, undefined, 'server-open is never isolated');
    t.equal(allowed(m, ip('client'), ip('server-open'), 'TCP', SERVER_PORT), true, 'client → server-open:8080');
  });
}

t.test('background pods reach the server on its named port, the client does not', async (t) => {
  const m = model(9); // bg-8 selects namespaces with team t1 = np-bg0 (namespace labels: t1..t3)
  t.equal(allowed(m, ip('other-0'), ip('server'), 'TCP', SERVER_PORT), true);
  t.equal(allowed(m, ip('client'), ip('server'), 'TCP', SERVER_PORT), false);
});

t.test('the sentinel denies the client even with allow-client absent and nothing else', async (t) => {
  t.equal(allowed(model(0), ip('client'), ip('server'), 'TCP', SERVER_PORT), true, 'no policies: open');
  t.equal(allowed(model(0, [sentinelDenyServer()]), ip('client'), ip('server'), 'TCP', SERVER_PORT), false, 'sentinel: closed');
});

t.test('names are unique and the service targets the server port', async (t) => {
  const names = Array.from({ length: 1000 }, (_, i) => `${backgroundPolicy(i).metadata!.namespace}/${backgroundPolicy(i).metadata!.name}`);
  t.equal(new Set(names).size, 1000);
  t.equal(serverService().spec.ports[0].targetPort, SERVER_PORT);
});
