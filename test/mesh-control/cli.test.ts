// The mesh commands of the CLI, run as child processes (node dist/cli/main.js): `proxy-status` against a
// live mesh control with a NACKing client, `proxy-config` against a sidecar admin on loopback serving the
// documents of proxy/admin/server.ts, and `describe pod` naming the policies that apply and why.
import t from 'tap';
import { createServer } from 'node:http';
import { TYPE_ENDPOINTS, TYPE_SERVICE, TYPE_WORKLOAD } from '../../proto/load.js';
import { R, startApi, startMesh } from './fixture.js';
import { AdsClient } from './adsclient.js';
import { waitFor } from '../wait.js';
import { formatProxyStatus } from '../../cli/commands/proxy-status.js';
import { shoal } from './shoal-cli.js';



t.test('formatProxyStatus', async (t) => {
  const now = 1_000_000;
  const out = formatProxyStatus([{ proxyId: 'a.ns', pod: 'a', namespace: 'ns', types: {
    [TYPE_SERVICE]: { sent: 'aaaaaaaa11', acked: 'aaaaaaaa11', nonce: 'n', lastPushMs: now - 5000 },
    [TYPE_ENDPOINTS]: { sent: 'bbbbbbbb22', acked: 'cccccccc33', nonce: 'n', lastPushMs: now - 3000 },
    [TYPE_WORKLOAD]: { sent: 'dddddddd', acked: 'eeeeeeee', nonce: 'n', lastPushMs: now - 1000, nack: { version: 'dddddddd', nonce: 'n', message: 'bad rule', atMs: now - 1000 } },
  } }], now);
  t.match(out, /^NAME\s+SERVICES\s+ENDPOINTS\s+WORKLOAD\s+ROUTES\s+LAST PUSH\n/);
  t.match(out, /a\.ns\s+SYNCED \(aaaaaaaa\)\s+STALE \(cccccccc < bbbbbbbb\)\s+NACKED \(eeeeeeee\)\s+NOT SENT\s+1s/);
  t.match(out, /NACKs:\n {2}a\.ns Workload version dddddddd rejected 1s ago: bad rule/);
});

t.test('proxy-status, proxy-config, describe pod', async (t) => {
  const api = await startApi('shoalt-meshcli-');
  const mc = await startMesh(api);
  const clients: AdsClient[] = [];
  const admin = createServer((req, res) => {
    const docs: Record<string, unknown> = {
      '/config_dump': {
        versions: { [TYPE_WORKLOAD]: 'v1' }, workload: { name: 'web-1', namespace: 'shop', peerAuthentication: { mode: 'STRICT', portModes: { 8080: 'PERMISSIVE' }, sources: ['shop/web'] } },
        services: [], endpoints: [], authorization: ['shop/deny-ops'],
        certificates: { certificates: [{ identity: 'spiffe://cluster.local/ns/shop/sa/web', serial_number: 'abc123', valid_from: '2026-12-06T00:00:00.000Z', expiration_time: '2026-12-07T00:00:00.000Z' }] },
      },
      '/clusters': { clusters: [{ name: 'outbound|5432||db.shop.svc.cluster.local', service: 'shop/db', vips: ['10.96.0.20'], endpoints: [{ address: '10.244.0.12', port: 5432, pod: 'db-1', identity: 'spiffe://cluster.local/ns/shop/sa/db', mesh: true }] }] },
    };
    const d = docs[req.url ?? ''];
    res.writeHead(d ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(d ?? {}));
  });
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', () => r()));
  t.teardown(async () => {
    for (const c of clients) c.close();
    admin.close();
    await mc.stop();
    await api.close();
  });
  await waitFor('ready', async () => mc.ready(), 20_000);
  const token = await api.tokenFor('shop', 'web');
  await api.pod('shop', 'web-1', { sa: 'web', labels: { app: 'web' }, ip: '10.244.0.11', sidecar: true });
  await api.client.create(R.peerauthentications, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'mesh', namespace: 'istio-system' }, spec: { mtls: { mode: 'STRICT' } } } as any, { namespace: 'istio-system' });
  await api.client.create(R.peerauthentications, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'web' } }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } } } as any, { namespace: 'shop' });
  await api.client.create(R.authorizationpolicies, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-ops', namespace: 'shop' }, spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['ops'] } }] }] } } as any, { namespace: 'shop' });
  await api.client.create(R.authorizationpolicies, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'db-only', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'db' } } } } as any, { namespace: 'shop' });
  const c = new AdsClient(`127.0.0.1:${mc.grpcPort}`, mc.ca.rootPem, token, { id: 'web-1.shop', podName: 'web-1', namespace: 'shop', ip: '', serviceAccount: 'web', labels: {} }, [TYPE_SERVICE, TYPE_ENDPOINTS, TYPE_WORKLOAD]);
  c.nack = (r) => (r.typeUrl === TYPE_ENDPOINTS ? 'endpoints: cannot parse' : undefined);
  clients.push(c.connect());
  await c.until(() => c.of(TYPE_ENDPOINTS).length > 0 && c.of(TYPE_WORKLOAD).length > 0, 10_000, 'config');
  const kc = ['--kubeconfig', api.kubeconfigPath];

  const ps = await waitFor('proxy-status shows the NACK', async () => {
    const r = await shoal([...kc, 'proxy-status', '--mesh-url', mc.debugUrl]);
    return r.out.includes('NACKs:') && r.out.includes('SYNCED') ? r : undefined;
  }, 10_000);
  t.equal(ps.code, 0, ps.err);
  t.match(ps.out, /web-1\.shop\s+SYNCED \([0-9a-f]{8}\)\s+NACKED \(-\)\s+SYNCED/);
  t.match(ps.out, /web-1\.shop Endpoints version [0-9a-f]{8} rejected \d+s ago: endpoints: cannot parse/);
  const json = JSON.parse((await shoal([...kc, 'proxy-status', 'web-1', '-n', 'shop', '--mesh-url', mc.debugUrl, '-o', 'json'])).out);
  t.equal(json[0].types[TYPE_ENDPOINTS].nack.message, 'endpoints: cannot parse');
  const none = await shoal([...kc, 'proxy-status', 'nope', '--mesh-url', mc.debugUrl]);
  t.equal(none.code, 1);
  const down = await shoal([...kc, 'proxy-status', '--mesh-url', 'http://127.0.0.1:1']);
  t.equal(down.code, 1);
  t.match(down.err, /127\.0\.0\.1:1/);

  const url = `http://127.0.0.1:${(admin.address() as { port: number }).port}`;
  const cl = await shoal([...kc, 'proxy-config', 'clusters', 'web-1', '-n', 'shop', '--admin-url', url]);
  t.equal(cl.code, 0, cl.err);
  t.match(cl.out, /SERVICE FQDN\s+PORT\s+DIRECTION\s+TYPE\s+ENDPOINTS\s+VIPS\ndb\.shop\.svc\.cluster\.local\s+5432\s+outbound\s+EDS\s+1\s+10\.96\.0\.20/);
  const ep = await shoal([...kc, 'proxy-config', 'endpoints', 'web-1', '-n', 'shop', '--admin-url', url]);
  t.match(ep.out, /10\.244\.0\.12:5432\s+HEALTHY\s+outbound\|5432\|\|db\.shop\.svc\.cluster\.local\s+spiffe:\/\/cluster\.local\/ns\/shop\/sa\/db\s+HBONE/);
  const li = await shoal([...kc, 'proxy-config', 'listeners', 'web-1', '-n', 'shop', '--admin-url', url]);
  t.match(li.out, /0\.0\.0\.0:15006\s+Inbound: all other ports\s+mTLS STRICT \(shop\/web\)/);
  t.match(li.out, /Inbound: port 8080\s+mTLS PERMISSIVE/);
  const se = await shoal([...kc, 'proxy-config', 'secret', 'web-1', '-n', 'shop', '--admin-url', url]);
  t.match(se.out, /default\s+Cert Chain\s+ACTIVE\s+true\s+abc123\s+2026-12-07T00:00:00.000Z/);
  const noSidecar = await shoal([...kc, 'proxy-config', 'clusters', 'ghost', '-n', 'shop']);
  t.equal(noSidecar.code, 1);
  t.match(noSidecar.err, /pods "ghost" not found/);
  const badView = await shoal([...kc, 'proxy-config', 'filters', 'web-1']);
  t.equal(badView.code, 1);
  t.match(badView.err, /unknown view "filters": one of clusters, endpoints, listeners, routes, secret/);

  const d = await shoal([...kc, 'describe', 'pod', 'web-1', '-n', 'shop']);
  t.equal(d.code, 0, d.err);
  t.match(d.out, /Mesh:\n {2}Sidecar: +yes \(istio-proxy\)\n {2}Identity: +spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web\n/);
  t.match(d.out, /mTLS mode: +STRICT; ports 8080=PERMISSIVE \(from shop\/web, istio-system\/mesh\)/);
  t.match(d.out, /✔ istio-system\/mesh \[mesh\] mode STRICT: mesh-wide: no selector in the root namespace istio-system/);
  t.match(d.out, /✔ shop\/web \[workload\] mode UNSET: workload: selector app=web matches the pod's labels/);
  t.match(d.out, /DENY shop\/deny-ops: namespace-wide: no selector in namespace shop/);
  t.notMatch(d.out, /db-only/, 'a policy selecting other pods is not listed');
});
