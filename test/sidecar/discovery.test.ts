// The discovery client against a scripted ADS server over TLS (grpc-js, the mesh proto): it subscribes
// to the three types with its node and bearer token, ACKs applied configs with version + nonce, NACKs a
// config it cannot apply with the field path and keeps the last good one, keeps serving its config while
// the server is down and resubscribes with its versions when the server is back (backoff with jitter).
import t from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadMeshProto } from '../../proto/load.js';
import type { DiscoveryRequest, DiscoveryResponse } from '../../proto/types.js';
import { DiscoveryClient } from '../../proxy/discovery/client.js';
import { ConfigStore } from '../../proxy/config/store.js';
import { TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD } from '../../proxy/config/types.js';
import { makeCa, servingCredentials } from './ca.js';
import { until } from './fixture.js';

type Stream = grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;

const workload = (mode: string, ipBlock = '10.0.0.0/8') => ({
  name: 'web-0', namespace: 'foo', serviceAccount: 'web', identity: 'spiffe://cluster.local/ns/foo/sa/web', ip: '10.244.0.2', labels: {},
  peerAuthentication: { mode, portModes: {}, sources: ['istio-system/default'] },
  authorization: [{ name: 'p', namespace: 'foo', action: 'ALLOW', provider: '', rules: [{ from: [{ source: { ipBlocks: [ipBlock] } }], to: [], when: [] }] }],
});

t.test('discovery: subscribe, ACK, NACK, reconnect', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = makeCa();
  writeFileSync(join(dir, 'root.pem'), ca.certPem);
  writeFileSync(join(dir, 'token'), 'the-token\n');
  const requests: DiscoveryRequest[] = [];
  const tokens: string[] = [];
  let current: Stream | null = null;
  let nonce = 0;
  const send = (typeUrl: string, version: string, resources: unknown[]): string => {
    const n = `n${++nonce}`;
    current!.write({ typeUrl, versionInfo: version, nonce: n, resources: resources as never });
    return n;
  };
  const { AggregatedDiscoveryService } = loadMeshProto();
  let port = 0;
  const startServer = async (): Promise<grpc.Server> => {
    const server = new grpc.Server();
    server.addService(AggregatedDiscoveryService.service, {
      StreamResources(call: Stream) {
        tokens.push(String(call.metadata.get('authorization')[0]));
        current = call;
        call.on('data', (r: DiscoveryRequest) => requests.push(r));
        call.on('error', () => {});
      },
    });
    port = await new Promise((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, servingCredentials(ca), (e, p) => (e ? reject(e) : resolve(p))));
    return server;
  };
  let server = await startServer();
  t.teardown(() => server.forceShutdown());

  const store = new ConfigStore();
  const logs: string[] = [];
  const client = new DiscoveryClient({
    address: `127.0.0.1:${port}`, rootCertFile: join(dir, 'root.pem'), tokenFile: join(dir, 'token'),
    node: { id: 'web-0.foo', podName: 'web-0', namespace: 'foo', ip: '10.244.0.2', serviceAccount: 'web', labels: {} },
    log: (_l, m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`), minBackoffMs: 100, maxBackoffMs: 400,
  });
  client.start(store);
  t.teardown(() => client.stop());

  await until('4 subscriptions', () => requests.length >= 4, 10_000);
  t.same(requests.map((r) => r.typeUrl).sort(), [TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD]);
  t.match(requests[0], { node: { id: 'web-0.foo', namespace: 'foo', serviceAccount: 'web' }, versionInfo: '', responseNonce: '' });
  t.equal(tokens[0], 'Bearer the-token', 'bearer token sent');

  requests.length = 0;
  const svc = { name: 'web', namespace: 'foo', hostname: 'web.foo.svc.cluster.local', vips: ['10.96.0.10'], ports: [{ name: 'http', port: 80, targetPort: 8080, targetPortName: '', protocol: 'TCP', appProtocol: '' }] };
  const n1 = send(TYPE_SERVICE, 'v1', [{ name: 'foo/web', service: svc }]);
  const n2 = send(TYPE_ENDPOINTS, 'v1', [{ name: 'foo/web', endpoints: { service: 'foo/web', endpoints: [] } }]);
  const n3 = send(TYPE_WORKLOAD, 'v1', [{ name: 'foo/web-0', workload: workload('STRICT') }]);
  const vs = (regex: string) => ({
    name: 'VirtualService/foo/web', routeConfig: {
      kind: 'VirtualService', namespace: 'foo', name: 'web', creationTimestamp: '2026-01-01T00:00:00Z', resourceVersion: '1',
      specJson: JSON.stringify({ hosts: ['web'], http: [{ match: [{ uri: { regex } }], route: [{ destination: { host: 'web' } }] }] }),
    },
  });
  const n4 = send(TYPE_ROUTES, 'v1', [vs('/a.*')]);
  await until('4 ACKs', () => requests.length >= 4);
  t.same(requests.map((r) => [r.typeUrl, r.versionInfo, r.responseNonce, r.errorDetail ?? null]), [
    [TYPE_SERVICE, 'v1', n1, null], [TYPE_ENDPOINTS, 'v1', n2, null], [TYPE_WORKLOAD, 'v1', n3, null], [TYPE_ROUTES, 'v1', n4, null],
  ], 'ACKs repeat version and nonce');
  t.ok(store.complete);
  t.equal(store.snapshot.vips.get('10.96.0.10:80')?.service.name, 'web');
  t.same(store.snapshot.routes.ports.get(80)?.get('web.foo.svc.cluster.local')?.routes.map((r) => r.source), ['VirtualService foo/web spec.http[0]'], 'the pushed VirtualService routes');
  requests.length = 0;
  const badRoute = send(TYPE_ROUTES, 'v2', [vs('(?=lookahead)')]);
  await until('routes NACK', () => requests.length >= 1);
  t.match(requests[0], { typeUrl: TYPE_ROUTES, versionInfo: 'v1', responseNonce: badRoute, errorDetail: { message: /VirtualService foo\/web\): spec\.http\[0\]\.match\[0\]\.uri\.regex: .*lookahead/ } }, 'a route the proxy cannot apply is NACKed with its field path');
  t.equal(store.snapshot.config.versions[TYPE_ROUTES], 'v1', 'last good routes kept');

  requests.length = 0;
  const bad = send(TYPE_WORKLOAD, 'v2', [{ name: 'foo/web-0', workload: workload('STRICT', '10.0.0.0/99') }]);
  await until('NACK', () => requests.length >= 1);
  t.match(requests[0], { typeUrl: TYPE_WORKLOAD, versionInfo: 'v1', responseNonce: bad, errorDetail: { code: 3, message: /authorization\[0\]\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: "10.0.0.0\/99": prefix length/ } }, 'NACK: last good version, nonce, reason with the field path');
  t.equal(store.snapshot.config.versions[TYPE_WORKLOAD], 'v1', 'last good config kept');
  t.match(client.status().nacks[TYPE_WORKLOAD], /ipBlocks/);
  requests.length = 0;
  const unknownMode = send(TYPE_WORKLOAD, 'v3', [{ name: 'foo/web-0', workload: workload('MAYBE') }]);
  await until('NACK 2', () => requests.length >= 1);
  t.match(requests[0], { versionInfo: 'v1', responseNonce: unknownMode, errorDetail: { message: /peerAuthentication\.mode: unsupported value "MAYBE"/ } });
  requests.length = 0;
  send(TYPE_WORKLOAD, 'v4', [{ name: 'foo/web-0', workload: workload('PERMISSIVE') }]);
  await until('ACK v4', () => requests.some((r) => r.versionInfo === 'v4'));
  t.equal(store.snapshot.peerMode(80), 'PERMISSIVE', 'a good config after NACKs applies');
  t.notOk(client.status().nacks[TYPE_WORKLOAD], 'NACK cleared');

  // mesh control goes away: the config stays, the client retries with backoff
  server.forceShutdown();
  await until('disconnected', () => !client.status().connected, 5000);
  t.equal(store.snapshot.config.versions[TYPE_WORKLOAD], 'v4', 'last config kept while mesh control is down');
  await new Promise((r) => setTimeout(r, 800));
  const streamsWhileDown = client.counters.streams;
  t.ok(streamsWhileDown >= 2, `retried while down (${streamsWhileDown} stream attempts)`);
  requests.length = 0;
  server = await startServer();
  await until('resubscribed', () => requests.length >= 4, 10_000);
  t.same(Object.fromEntries(requests.map((r) => [r.typeUrl, r.versionInfo])), { [TYPE_SERVICE]: 'v1', [TYPE_ENDPOINTS]: 'v1', [TYPE_WORKLOAD]: 'v4', [TYPE_ROUTES]: 'v1' }, 'resubscribes with the versions it has');
  send(TYPE_SERVICE, 'v5', []);
  await until('connected again', () => client.status().connected);
  t.equal(store.snapshot.vips.size, 0, 'pushes apply again');
});
