// pods/log is proxied to the pod's node agent: a stand-in agent on 127.0.0.1 serves kubelet's
// /containerLogs path, and both the REST call and the real `kubectl logs` read through the API server.
import t from 'tap';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { tlsCluster, type TlsCluster } from './tls-harness.js';
import { KubeClient } from '../../api/client/index.js';

let c: TlsCluster;
let agent: http.Server;
const seen: string[] = [];
t.before(async () => {
  c = await tlsCluster();
  agent = http.createServer((req, res) => {
    seen.push(req.url!);
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/?]+)/.exec(req.url!);
    if (!m) {
      res.writeHead(404).end('no such path');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`log of ${m[1]}/${m[2]}/${m[3]}\nline 2\n`);
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
});
t.teardown(async () => {
  agent?.close();
  await c?.close();
});

t.test('pods/log reaches the node agent', async (t) => {
  const port = (agent.address() as { port: number }).port;
  const client = KubeClient.fromKubeconfig(c.kubeconfig);
  await client.create({ apiVersion: 'v1', plural: 'nodes', namespaced: false }, {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  });
  await client.create({ apiVersion: 'v1', plural: 'pods', namespaced: true }, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'shoal/hello:1' }, { name: 'side', image: 'shoal/hello:1' }] },
  }, { namespace: 'default' });

  let haveKubectl = true;
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    haveKubectl = false;
  }
  if (haveKubectl) {
    const r = await c.kubectl(['logs', 'web', '-c', 'side', '--tail=5']);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'log of default/web/side\nline 2\n');
    t.ok(seen.some((u) => u.includes('tailLines=5')), 'tailLines passed through');
    const dflt = await c.kubectl(['logs', 'web']);
    t.equal(dflt.code, 0, dflt.stderr);
    t.equal(dflt.stdout, 'log of default/web/app\nline 2\n', 'kubectl defaults to the first container');
  }
  const noC = await c.server.app.inject({ method: 'GET', url: '/api/v1/namespaces/default/pods/web/log', headers: { authorization: `Bearer ${c.token}` } });
  t.equal(noC.statusCode, 400, 'the API itself wants a container name when there are two');
  t.match(JSON.parse(noC.body).message, /a container name must be specified for pod web, choose one of: \[app side\]/);
  const { execFile } = await import('node:child_process');
  const shoal = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
    execFile(process.execPath, [new URL('../../cli/main.js', import.meta.url).pathname, '--kubeconfig', c.kubeconfig, ...args], (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }));
  });
  const sl = await shoal(['logs', 'web', '-c', 'side', '--tail', '3']);
  t.equal(sl.code, 0, sl.stderr);
  t.equal(sl.stdout, 'log of default/web/side\nline 2\n', 'shoal logs reads through pods/log');
  const sbad = await shoal(['logs', 'web', '-c', 'nope']);
  t.equal(sbad.code, 1);
  t.match(sbad.stderr, /Error from server \(BadRequest\): container nope is not valid for pod web/);
  const bad = await c.kubectl(['logs', 'web', '-c', 'nope']);
  t.not(bad.code, 0);
  t.match(bad.stderr, /container nope is not valid for pod web/);
});
