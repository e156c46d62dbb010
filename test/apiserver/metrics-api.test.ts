// metrics.k8s.io through the API server: a stand-in node agent on 127.0.0.1 serves kubelet's
// /metrics/resource with counters the test moves; after two scrapes PodMetrics and NodeMetrics carry the
// CPU rate in nanocores and the working set in Ki, filtered by label selector, and the real `kubectl top`
// prints them. The scraper's pairing rules (restart, missing containers) are checked with a fake fetch.
// Also autoscaling/v1 over the stored v2 HorizontalPodAutoscaler.
import t from 'tap';
import http from 'node:http';
import { tlsCluster, type TlsCluster } from './tls-harness.js';
import { KubeClient } from '../../api/client/index.js';
import { MetricsScraper, parseResourceMetrics } from '../../control-plane/apiserver/metrics-api/index.js';
import { usageQuantities, windowText } from '../../control-plane/apiserver/metrics-api/serve.js';

let c: TlsCluster;
let agent: http.Server;
let now = Date.now() - 60_000;
const cpu: Record<string, number> = { web: 1, other: 5 };
let nodeCpu = 100;
const text = () => [
  '# TYPE container_cpu_usage_seconds_total counter',
  `container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} ${cpu.web} ${now}`,
  `container_cpu_usage_seconds_total{container="app",namespace="default",pod="other"} ${cpu.other} ${now}`,
  `container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 10485760 ${now}`,
  `container_memory_working_set_bytes{container="app",namespace="default",pod="other"} 2048 ${now}`,
  `node_cpu_usage_seconds_total ${nodeCpu} ${now}`,
  `node_memory_working_set_bytes 1073741824 ${now}`,
  '',
].join('\n');

t.before(async () => {
  c = await tlsCluster();
  agent = http.createServer((req, res) => {
    if (req.url !== '/metrics/resource') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(text());
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
});
t.teardown(async () => {
  agent?.close();
  await c?.close();
});

const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };

t.test('PodMetrics and NodeMetrics from two scrapes; kubectl top', async (t) => {
  const port = (agent.address() as { port: number }).port;
  const client = KubeClient.fromKubeconfig(c.kubeconfig);
  t.teardown(() => client.close());
  await client.create({ apiVersion: 'v1', plural: 'nodes', namespaced: false }, {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  });
  for (const [name, app] of [['web', 'web'], ['other', 'db']])
    await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } }, spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'shoal/hello:1' }] } });
  const s = c.server.metricsScraper!;
  t.ok(s, 'the API server runs a scraper');
  await s.scrapeOnce();
  const early = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
  t.same(early.items, [], 'one sample gives no rate yet');
  now += 10_000;
  cpu.web += 2.5; // 0.25 cores over 10 s
  cpu.other += 0.01;
  nodeCpu += 15;
  await s.scrapeOnce();
  const list = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
  t.equal(list.kind, 'PodMetricsList');
  const web = list.items.find((p: any) => p.metadata.name === 'web');
  t.same(web.containers, [{ name: 'app', usage: { cpu: '250000000n', memory: '10240Ki' } }]);
  t.equal(web.window, '10s');
  t.equal(web.timestamp, new Date(now).toISOString());
  t.same(web.metadata.labels, { app: 'web' }, "the pod's labels");
  const sel = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { query: { labelSelector: 'app=db' } });
  t.same(sel.items.map((p: any) => p.metadata.name), ['other'], 'label selector');
  const all = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1/pods');
  t.equal(all.items.length, 2, 'all namespaces');
  const one = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/other');
  t.same(one.containers[0].usage, { cpu: '1000000n', memory: '2Ki' });
  await t.rejects(client.request('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope'), { code: 404 }, 'a pod without metrics is NotFound');
  await t.rejects(client.request('POST', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { body: {} }), { code: 405 }, 'read-only');
  const node = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1/nodes/n1');
  t.same([node.kind, node.usage, node.window], ['NodeMetrics', { cpu: '1500000000n', memory: '1048576Ki' }, '10s']);
  const nodes = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1/nodes', { query: { labelSelector: 'zone=b' } });
  t.same(nodes.items, [], 'node label selector');
  const disc = await client.request<any>('GET', '/apis/metrics.k8s.io/v1beta1');
  t.same(disc.resources.map((r: any) => [r.name, r.kind, r.verbs]), [['pods', 'PodMetrics', ['get', 'list']], ['nodes', 'NodeMetrics', ['get', 'list']]]);

  const top = await c.kubectl(['top', 'pod', '--no-headers', '--sort-by=cpu']);
  t.equal(top.code, 0, top.stderr);
  t.match(top.stdout, /^web\s+250m\s+10Mi\s*$/m, `kubectl top pod: ${top.stdout}`);
  t.match(top.stdout, /^other\s+1m\s+0Mi\s*$/m);
  const topNode = await c.kubectl(['top', 'node', '--no-headers']);
  t.equal(topNode.code, 0, topNode.stderr);
  t.match(topNode.stdout, /^n1\s+1500m\s+/m, `kubectl top node: ${topNode.stdout}`);
});

t.test('scraper pairing: restart resets, missing containers are forgotten', async (t) => {
  let body = '';
  const timers: (() => void)[] = [];
  const s = new MetricsScraper({
    targets: async () => [{ node: 'n', url: 'http://x' }], fetchText: async () => body, resolutionMs: 1000,
    clock: { now: () => 0, setTimeout: (fn: () => void) => timers.push(fn), clearTimeout: () => undefined, setInterval: () => undefined, clearInterval: () => undefined },
  });
  const line = (v: number, ts: number, start = 100) => `container_cpu_usage_seconds_total{container="c",namespace="ns",pod="p"} ${v} ${ts}\ncontainer_start_time_seconds{container="c",namespace="ns",pod="p"} ${start} ${ts}\n`;
  body = line(10, 1000);
  await s.scrapeOnce();
  body = line(12, 3000);
  await s.scrapeOnce();
  t.same(s.pod('ns', 'p', ['c'])!.map((x) => [x.usage.cpuCores, x.usage.windowMs]), [[1, 2000]], '2 s of CPU in 2 s');
  body = line(1, 5000, 200);
  await s.scrapeOnce();
  t.equal(s.pod('ns', 'p', ['c']), undefined, 'a restarted container needs two new samples');
  t.equal(s.pod('ns', 'p', ['c', 'other']), undefined, 'every container must have a reading');
  body = '';
  await s.scrapeOnce();
  body = line(2, 7000, 200);
  await s.scrapeOnce();
  t.equal(s.pod('ns', 'p', ['c']), undefined, 'a container missing from a scrape starts over');
  s.start();
  s.stop();
  t.ok(timers.length <= 1);
});

t.test('formats', async (t) => {
  t.same(usageQuantities({ cpuCores: 0.0123456789, memoryBytes: 5000 }), { cpu: '12345679n', memory: '5Ki' });
  t.equal(windowText(15_000), '15s');
  t.equal(windowText(10_512), '10.512s');
  const p = parseResourceMetrics('# HELP x\ncontainer_memory_working_set_bytes{container="a\\"b",namespace="n",pod="p"} 42 1000\nnode_cpu_usage_seconds_total 3.5 2000\n');
  t.same(p.containers.get('n/p/a"b'), { ts: 1000, memoryBytes: 42 });
  t.same(p.node, { ts: 2000, cpuSeconds: 3.5 });
});

t.test('autoscaling/v1 over the stored v2 object', async (t) => {
  const client = KubeClient.fromKubeconfig(c.kubeconfig);
  t.teardown(() => client.close());
  const v1 = { apiVersion: 'autoscaling/v1', plural: 'horizontalpodautoscalers', namespaced: true };
  const v2 = { apiVersion: 'autoscaling/v2', plural: 'horizontalpodautoscalers', namespaced: true };
  const created = await client.create(v1, { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 60 } });
  t.same([created.apiVersion, created.spec.targetCPUUtilizationPercentage, created.spec.minReplicas], ['autoscaling/v1', 60, 1], 'v1 answer with v2 defaults');
  const stored = await client.get(v2, 'h', { namespace: 'default' });
  t.same(stored.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  await client.patch(v2, 'h', { spec: { metrics: [...stored.spec.metrics, { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }], behavior: { scaleDown: { stabilizationWindowSeconds: 10 } } } }, { type: 'merge', namespace: 'default' });
  const viaV1 = await client.get(v1, 'h', { namespace: 'default' });
  viaV1.spec.targetCPUUtilizationPercentage = 70;
  await client.update(v1, viaV1);
  const after = await client.get(v2, 'h', { namespace: 'default' });
  t.equal(after.spec.metrics[0].resource.target.averageUtilization, 70, 'v1 update changes the cpu target');
  t.equal(after.spec.metrics[1].resource.name, 'memory', 'and keeps the metric v1 cannot express');
  t.equal(after.spec.behavior.scaleDown.stabilizationWindowSeconds, 10, 'and the behavior');
  await t.rejects(client.create(v1, { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad', namespace: 'default' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 4, maxReplicas: 2 } }), { code: 422 });
  await t.rejects(client.create(v1, { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad', namespace: 'default' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2, metrics: [] } } as any), { code: 422 }, 'a v2 field in a v1 body is unknown');
  const list = await c.kubectl(['get', 'hpa', '--no-headers']);
  t.match(list.stdout, /^h\s+Deployment\/web\s+cpu: <unknown>\/70%, memory: <unknown>\/100Mi\s+1\s+5\s+0\s+/m, list.stdout);
  const del = await client.delete(v1, 'h', { namespace: 'default' });
  t.ok(del);
  await t.rejects(client.get(v2, 'h', { namespace: 'default' }), { code: 404 });
});
