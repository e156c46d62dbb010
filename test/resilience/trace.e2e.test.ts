// Tracing through real sidecars (issue 15): a request through three services (pod A's client → s1 → s2 →
// s3, the apps in pod B copying the trace headers to their own calls, test/resilience/chain-app.ts) yields
// one trace: six spans (a CLIENT span at each caller's sidecar, a SERVER span at each callee's), exported by
// OTLP/HTTP JSON to a collector this test runs in the root namespace, with parent links forming one chain.
// The first request arrives with a B3 header (accepted: its trace id is kept); the second has none (the
// client's sidecar starts the trace, sampling 100%).
import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { meshNet, rootSkip, runInPod, startTestSidecar, until, type MeshNet, type Pod } from '../sidecar/fixture.js';
import type { MeshEndpoint, StaticConfigFile } from '../../proxy/config/types.js';

const K = 13;
const VIP = (i: number) => `10.215.${K}.${10 + i}`;

interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: { key: string; value: Record<string, string> }[] }

function config(net: MeshNet, self: 'a' | 'b'): StaticConfigFile {
  const me = self === 'a' ? net.a : net.b;
  const sa = self === 'a' ? 'client' : 'server';
  const ep = (port: number, n: string): MeshEndpoint => ({
    address: net.b.ip, ports: [{ name: 'http', port }], podName: `${n}-0`, namespace: 'foo', serviceAccount: 'server',
    identity: 'spiffe://cluster.local/ns/foo/sa/server', mesh: true, labels: { app: n }, ready: true,
  });
  const names = ['s1', 's2', 's3'];
  return {
    services: names.map((n, i) => ({ name: n, namespace: 'foo', hostname: `${n}.foo.svc.cluster.local`, vips: [VIP(i)], ports: [{ name: 'http', port: 80, targetPort: 0, protocol: 'TCP', appProtocol: '' }] })),
    endpoints: names.map((n, i) => ({ service: `foo/${n}`, endpoints: [ep(9301 + i, n)] })),
    workload: {
      name: `${sa}-0`, namespace: 'foo', serviceAccount: sa, identity: `spiffe://cluster.local/ns/foo/sa/${sa}`, ip: me.ip, labels: { app: sa },
      peerAuthentication: { mode: 'STRICT', portModes: {}, sources: [] }, authorization: [],
    },
    routing: [],
  };
}

t.test('one trace over three services', { skip: rootSkip, timeout: 180_000 }, async (t) => {
  const spans: OtlpSpan[] = [];
  const services = new Set<string>();
  const collector: Server = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      const body = JSON.parse(b);
      for (const rs of body.resourceSpans) {
        services.add(rs.resource.attributes.find((a: any) => a.key === 'service.name')?.value.stringValue);
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '0.0.0.0', () => r()));
  t.teardown(() => { collector.closeAllConnections(); collector.close(); });
  const port = (collector.address() as AddressInfo).port;

  const net = await meshNet(t, 'sctr', K);
  for (const [i, next] of [[0, `http://${VIP(1)}/`], [1, `http://${VIP(2)}/`], [2, '']] as const) {
    const app = runInPod(t, net.b, [process.execPath, 'dist/test/resilience/chain-app.js', String(9301 + i), `s${i + 1}`, ...(next ? [next] : [])]);
    await until(`app s${i + 1}`, () => app.out().includes('up'));
  }
  const env = (pod: Pod) => ({ SHOAL_TRACING_ENDPOINT: `http://${pod.hostIp}:${port}/v1/traces`, SHOAL_TRACING_SAMPLING: '100' });
  await startTestSidecar(t, net, net.b, { sa: 'server', config: config(net, 'b'), env: env(net.b) });
  await startTestSidecar(t, net, net.a, { sa: 'client', config: config(net, 'a'), env: env(net.a) });

  const call = async (headers: Record<string, string>) => {
    const p = runInPod(t, net.a, [process.execPath, 'dist/test/resilience/probe.js', JSON.stringify({ cmd: 'get', url: `http://${VIP(0)}/`, headers })]);
    await p.exited;
    return JSON.parse(p.out().trim().split('\n').pop()!);
  };
  const b3Trace = '80f198ee56343ba864fe8b2a57d3eff7', b3Span = 'e457b5a2e4d86bd1';
  const r1 = await call({ b3: `${b3Trace}-${b3Span}-1` });
  t.equal(r1.status, 200);
  t.equal(JSON.parse(r1.body).next.next.name, 's3', 'the chain answered through three services');
  const r2 = await call({});
  t.equal(r2.status, 200);

  await until('12 spans exported', () => spans.length >= 12, 10_000);
  const byTrace = new Map<string, OtlpSpan[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  t.equal(byTrace.size, 2, `two traces: ${[...byTrace.keys()].join(', ')}`);
  t.equal(byTrace.get(b3Trace)?.length, 6, 'the B3 request: its trace id on all six spans');
  for (const [id, list] of byTrace) {
    t.equal(list.length, 6, `trace ${id}: six spans`);
    t.same(list.map((s) => s.kind).sort(), [2, 2, 2, 3, 3, 3], 'three SERVER and three CLIENT spans');
    const ids = new Set(list.map((s) => s.spanId));
    const roots = list.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    t.equal(roots.length, 1, 'one root; every other span has its parent in the trace');
    if (id === b3Trace) t.equal(roots[0].parentSpanId, b3Span, "the root's parent is the B3 span");
    else t.notOk(roots[0].parentSpanId, 'a new trace starts at the client sidecar');
    t.equal(roots[0].kind, 3, 'the root is the client sidecar\'s CLIENT span');
    // Walk the chain: CLIENT → SERVER → CLIENT → … six deep.
    let depth = 1, cur = roots[0];
    for (;;) {
      const child = list.find((s) => s.parentSpanId === cur.spanId);
      if (!child) break;
      t.not(child.kind, cur.kind, `${cur.name} → ${child.name}`);
      depth++;
      cur = child;
    }
    t.equal(depth, 6, 'one chain of six hops');
    t.ok(list.some((s) => s.name === 's2.foo.svc.cluster.local:80/*'), 'span names as Istio: <service>:<port>/*');
    t.ok(list.every((s) => s.attributes.some((a) => a.key === 'http.status_code' && a.value.intValue === '200')), 'http.status_code 200 everywhere');
  }
  t.same([...services].sort(), ['client-0.foo', 'server-0.foo'], 'service.name of both sidecars');
});
