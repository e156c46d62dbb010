// The mesh end to end, as a user runs it: `shoal up` (API server with the injection admission step, mesh
// control in the control-plane process, node agent with native sidecars), a namespace labelled
// istio-injection=enabled with a server Deployment + Service and a client pod, injected automatically;
// the client reaches the server through both sidecars over mTLS; under STRICT PeerAuthentication a
// plaintext connection from a pod outside the mesh is refused; a Job with a sidecar completes. Root only.
// The sidecars resolve istiod.istio-system.svc through cluster DNS (a pod behind a ClusterIP: `shoal up`
// holds net.ipv4.ip_forward=1 for that, issue 11), as in a real cluster: no hostAliases.
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { waitFor } from '../wait.js';
import { spawnUp } from '../e2e/shoal-up.js';
import { freePort } from '../../lib/serve/serve.js';

const root = new URL('../../..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'main.js');
const need = [join(root, 'dist', 'sidecar', 'main.js'), join(root, 'dist', 'sidecar', 'init', 'main.js'), join(root, 'dist', 'control-plane', 'mesh', 'run.js')];
const missing = need.filter((f) => !existsSync(f));
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, nftables, cgroups); CI runs as root'
  : missing.length ? `a mesh part is missing: ${missing.join(', ')} (build the sidecar and mesh control first)` : false;

const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
const names = { bridge: `sm${rand}br`, netnsPrefix: `shoalt-mesh-${rand}-`, cgroup: `shoalt-mesh-${rand}`, node: `shoalt-mesh-${rand}`, octet: 100 + (parseInt(rand, 16) % 150) };
const R = {
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  deployments: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  jobs: { apiVersion: 'batch/v1', plural: 'jobs', namespaced: true },
  configmaps: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  peerauth: { apiVersion: 'security.istio.io/v1', plural: 'peerauthentications', namespaced: true },
} as const;

function sh(cmd: string, args: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => execFile(cmd, args, { timeout }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
}

const ready = (p: KubeObject | undefined) => !!p && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const netnsOf = (p: KubeObject) => `${names.netnsPrefix}${p.metadata.uid!.replace(/-/g, '').slice(0, 12)}`;

// a one-shot TCP/HTTP client run inside a pod's network namespace (as root: captured by the rules)
const HTTP_GET = "fetch(process.argv[1],{signal:AbortSignal.timeout(8000)}).then(async r=>console.log(r.status,(await r.text()).trim())).catch(e=>console.log('ERR',e.cause?.code??e.name))";
const RAW_TCP = "const s=require('net').connect(+process.argv[2],process.argv[1]);let b='';s.setTimeout(5000,()=>{console.log('TIMEOUT');process.exit(0)});s.on('connect',()=>s.write('GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));s.on('data',d=>b+=d);s.on('close',()=>console.log(b?'DATA '+b.split('\\r\\n')[0]:'CLOSED-NO-DATA'));s.on('error',e=>console.log('ERR '+e.code))";

/** Leftovers of an earlier run of this test that died: its clusters (shoal down), netns and bridges. */
async function clearLeftovers(): Promise<void> {
  for (const d of readdirSync(tmpdir())) {
    if (!d.startsWith('shoalt-mesh-')) continue;
    await sh(process.execPath, [cli, 'down', '--home', join(tmpdir(), d)], 120_000);
    rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  for (const l of (await sh('ip', ['netns', 'list'])).stdout.split('\n')) {
    const n = l.split(' ')[0]!;
    if (n.startsWith('shoalt-mesh-')) await sh('ip', ['netns', 'del', n]);
  }
  for (const l of (await sh('ip', ['-o', 'link'])).stdout.split('\n')) {
    const m = /^\d+: (sm[0-9a-f]{4}br)[:@]/.exec(l);
    if (m) await sh('ip', ['link', 'del', m[1]!]);
  }
}

t.test('the mesh through a shoal up cluster', { skip }, async (t) => {
  await clearLeftovers();
  const home = mkdtempSync(join(tmpdir(), `shoalt-mesh-${rand}-`));
  const port = await freePort();
  const u = spawnUp(home, port, names, `10.244.${names.octet}.0/24`);
  t.teardown(async () => {
    await u.stop(120_000);
    rmSync(home, { recursive: true, force: true });
  });
  await u.ready(90_000);
  t.match(u.out(), /mesh-control ready/, 'mesh control runs in the control-plane process');
  const api = KubeClient.fromKubeconfig(join(home, 'kubeconfig'));
  t.teardown(() => api.close());
  const kc = join(home, 'kubeconfig');
  const shoal = (...args: string[]) => sh(process.execPath, [cli, '--kubeconfig', kc, ...args]);

  // the mesh's namespace, and one outside it
  const NS = 'mesh-e2e';
  await api.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'istio-injection': 'enabled' } } } as any);
  await api.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'outside' } } as any);
  await waitFor('Service istiod in istio-system', () => api.get(R.services, 'istiod', { namespace: 'istio-system' }), 30_000);
  await waitFor('root cert ConfigMap in the namespace', () => api.get(R.configmaps, 'istio-ca-root-cert', { namespace: NS }), 30_000);

  // STRICT mTLS in the mesh namespace, from the start
  await api.create(R.peerauth, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: NS }, spec: { mtls: { mode: 'STRICT' } } } as any, { namespace: NS });

  await api.create(R.deployments, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'server', namespace: NS },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'server' } },
      // an httpGet readiness probe on the app port: under STRICT the kubelet's plaintext probe would be
      // refused like any plaintext connection; the injector rewrites it to the sidecar's
      // :15020/app-health/hello/readyz, and the sidecar (UID 1337, not captured) runs it against the app
      template: { metadata: { labels: { app: 'server', version: 'v1' } }, spec: { containers: [{
        name: 'hello', image: 'shoal/hello:v1', ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, timeoutSeconds: 2 },
      }] } },
    },
  } as any, { namespace: NS });
  const svc = await api.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'server', namespace: NS }, spec: { selector: { app: 'server' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } as any, { namespace: NS }) as KubeObject;
  await api.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: NS, labels: { app: 'client' } }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'c', image: 'shoal/pause' }] } } as any, { namespace: NS });
  await api.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'outsider', namespace: 'outside' }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'c', image: 'shoal/pause' }] } } as any, { namespace: 'outside' });

  const podsReady = async () => {
    const server = (await api.list(R.pods, { namespace: NS, labelSelector: 'app=server' })).items.find(ready);
    const client = await api.get(R.pods, 'client', { namespace: NS });
    const outsider = await api.get(R.pods, 'outsider', { namespace: 'outside' });
    return server && ready(client) && ready(outsider) ? { server, client, outsider } : undefined;
  };
  let pods: { server: KubeObject; client: KubeObject; outsider: KubeObject };
  try {
    pods = await waitFor('server, client and outsider Ready (sidecars started and ready)', podsReady, 120_000);
  } catch (e) {
    const list = await api.list(R.pods, { namespace: NS });
    t.fail(`${(e as Error).message}\n${JSON.stringify(list.items.map((p: any) => ({ name: p.metadata.name, status: p.status })), null, 1)}`);
    for (const prev of [[], ['--previous']]) {
      const logs = await shoal('logs', '-n', NS, 'client', '-c', 'istio-proxy', ...prev);
      t.comment(`client istio-proxy log ${prev.join('')}:\n${logs.stdout}${logs.stderr}`);
    }
    return;
  }
  const { server, client, outsider } = pods;
  // what the native sidecar costs at startup (status timestamps, 1 s resolution)
  const at = (s?: string) => (s ? Date.parse(s) / 1000 : NaN);
  const ic = (n: string) => client.status.initContainerStatuses.find((c: any) => c.name === n);
  const created = at(client.metadata.creationTimestamp);
  t.comment(`client pod: istio-init ${at(ic('istio-init').state.terminated.finishedAt) - created} s after create, proxy started ${at(ic('istio-proxy').state.running.startedAt) - created} s, ` +
    `app started ${at(client.status.containerStatuses[0].state.running.startedAt) - created} s, Ready ${at(client.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime) - created} s`);

  // injected automatically by the admission step
  for (const p of [server, client]) {
    t.same(p.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy'], `${p.metadata.name}: injected`);
    t.equal(p.metadata.labels?.['security.istio.io/tlsMode'], 'istio');
    const proxy = p.status.initContainerStatuses.find((c: any) => c.name === 'istio-proxy');
    t.match(proxy, { started: true, ready: true, state: { running: {} } }, `${p.metadata.name}: the native sidecar is started and ready`);
    t.equal(p.status.initContainerStatuses.find((c: any) => c.name === 'istio-init').state.terminated?.exitCode, 0, 'istio-init completed');
    const nft = await sh('ip', ['netns', 'exec', netnsOf(p), 'nft', 'list', 'table', 'ip', 'shoal-capture']);
    t.match(nft.stdout, /redirect to :15001/, `${p.metadata.name}: capture rules in the pod's netns`);
  }
  t.notOk(outsider.spec.initContainers, 'a pod in an unlabelled namespace is not injected');
  // the server's app readiness probe went through the sidecar (the server is Ready above, under STRICT)
  t.match(server.spec.containers[0].readinessProbe, { periodSeconds: 1, timeoutSeconds: 2, httpGet: { path: '/app-health/hello/readyz', port: 15020, scheme: 'HTTP' } }, 'the app probe was rewritten to the sidecar');
  const probers = server.spec.initContainers.find((c: any) => c.name === 'istio-proxy').env.find((e: any) => e.name === 'ISTIO_KUBE_APP_PROBERS');
  t.same(JSON.parse(probers?.value ?? '{}'), { '/app-health/hello/readyz': { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, timeoutSeconds: 2 } }, 'the original probe handed to the sidecar');
  t.equal(server.status.containerStatuses.find((c: any) => c.name === 'hello')?.ready, true, 'the app container is Ready: its probe passed through the sidecar under STRICT');
  const appHealth = await sh('ip', ['netns', 'exec', netnsOf(outsider), process.execPath, '-e', HTTP_GET, `http://${server.status.podIP}:15020/app-health/hello/readyz`]);
  t.match(appHealth.stdout, /^200 HTTP GET 127\.0\.0\.1:8080\/healthz: 200/, 'the sidecar answers the probe path as the kubelet sees it');
  const unknownProbe = await sh('ip', ['netns', 'exec', netnsOf(outsider), process.execPath, '-e', HTTP_GET, `http://${server.status.podIP}:15020/app-health/other/readyz`]);
  t.match(unknownProbe.stdout, /^404/, 'an unknown /app-health path is 404');
  const kubectl = existsSync('/usr/bin/kubectl') ? ['/usr/bin/kubectl', '--kubeconfig', kc] : [process.execPath, cli, '--kubeconfig', kc];
  const kget = await sh(kubectl[0]!, [...kubectl.slice(1), 'get', 'pod', 'client', '-n', NS, '--no-headers']);
  t.match(kget.stdout, /^client\s+2\/2\s+Running\s+0/, `${kubectl[0]} get pod counts the native sidecar in READY (2/2)`);
  const proxyPid = client.status.initContainerStatuses.find((c: any) => c.name === 'istio-proxy').containerID.replace('shoal://', '');
  t.match(readFileSync(`/proc/${proxyPid}/status`, 'utf8'), /\nUid:\s+1337\s+1337/, 'the sidecar process runs as UID 1337');

  // client → Service VIP → client sidecar (15001) → HBONE mTLS → server sidecar (15008) → app
  const url = `http://${svc.spec.clusterIP}/`;
  const viaMesh = await waitFor('client reaches the server through both sidecars', async () => {
    const r = await sh('ip', ['netns', 'exec', netnsOf(client), process.execPath, '-e', HTTP_GET, url]);
    return r.stdout.startsWith('200 ') ? r.stdout : undefined;
  }, 30_000).catch((e) => `FAILED ${(e as Error).message}`);
  t.match(viaMesh, new RegExp(`^200 .*"ip":"${server.status.podIP.replace(/\./g, '\\.')}"`), 'client → server over the mesh');
  const direct = await sh('ip', ['netns', 'exec', netnsOf(client), process.execPath, '-e', HTTP_GET, `http://${server.status.podIP}:8080/`]);
  t.match(direct.stdout, /^200 /, 'client → server pod IP also goes through both sidecars');

  // the sidecars saw it: the client's outbound and the server's inbound with the client's identity
  const adminOf = async (p: KubeObject, path: string, port = 15000) => (await sh('ip', ['netns', 'exec', netnsOf(p), process.execPath, '-e', `fetch('http://127.0.0.1:${port}${path}').then(r=>r.text()).then(t=>process.stdout.write(t))`])).stdout;
  const certs = await adminOf(client, '/certs');
  t.match(certs, `spiffe://cluster.local/ns/${NS}/sa/default`, 'the client sidecar holds its SPIFFE certificate');
  const clientStats = await adminOf(client, '/stats');
  t.match(clientStats, /tunnel\.sessions_opened: [1-9]/, 'the client sidecar opened an mTLS tunnel session');
  t.match(clientStats, /tunnel\.streams_opened: ([2-9]|\d{2,})/, 'and carried both app connections as streams in it');
  const prom = await adminOf(server, '/stats/prometheus', 15090);
  const inbound = prom.split('\n').filter((l) => l.startsWith('istio_tcp_connections_opened_total{') && l.includes('reporter="destination"'));
  t.ok(inbound.some((l) => l.includes(`source_principal="spiffe://cluster.local/ns/${NS}/sa/default"`) && l.includes('connection_security_policy="mutual_tls"')),
    `the server sidecar accepted the connections over mTLS from the client's identity:\n${inbound.join('\n')}`);

  // STRICT: plaintext from outside the mesh to the server's app port is refused
  const plain = await sh('ip', ['netns', 'exec', netnsOf(outsider), process.execPath, '-e', RAW_TCP, server.status.podIP, '8080']);
  t.notMatch(plain.stdout, /^DATA HTTP\/1\.1 200/, `plaintext from a non-mesh pod is refused under STRICT (${plain.stdout.trim()})`);
  const health = await sh('ip', ['netns', 'exec', netnsOf(outsider), process.execPath, '-e', HTTP_GET, `http://${server.status.podIP}:15021/healthz/ready`]);
  t.match(health.stdout, /^200/, 'the outsider does reach the server pod (health port, not captured): the refusal is the mesh\'s');

  // offline injection (`shoal inject -f`, like istioctl kube-inject) of a pod in an unlabelled namespace
  const manifest = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: offline\n  namespace: outside\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: c\n    image: shoal/pause\n`;
  const injected = await new Promise<string>((resolve) => {
    const p = spawn(process.execPath, [cli, 'inject', '-f', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let o = '';
    p.stdout.on('data', (d) => (o += d));
    p.on('close', () => resolve(o));
    p.stdin.end(manifest);
  });
  t.match(injected, /name: istio-proxy/, 'shoal inject -f printed the injected pod');
  const applied = await new Promise<number>((resolve) => {
    const p = spawn(process.execPath, [cli, '--kubeconfig', kc, 'apply', '-f', '-'], { stdio: ['pipe', 'inherit', 'inherit'] });
    p.on('close', (c) => resolve(c ?? 1));
    p.stdin.end(injected);
  });
  t.equal(applied, 0, 'shoal apply of the injected manifest');
  const offline = await waitFor('the offline-injected pod is Ready', async () => {
    const p = await api.get(R.pods, 'offline', { namespace: 'outside' });
    return ready(p) ? p : undefined;
  }, 60_000).catch(() => undefined);
  t.ok(offline, 'offline-injected pod Ready with its sidecar');
  if (offline) {
    const r = await sh('ip', ['netns', 'exec', netnsOf(offline), process.execPath, '-e', HTTP_GET, url]);
    t.match(r.stdout, /^200 /, 'the offline-injected pod reaches the STRICT server through the mesh');
  }

  // a Job-style pod (restartPolicy Never) with an injected sidecar completes when its app container ends;
  // then a real batch/v1 Job whose injected pod calls the server through the mesh
  await api.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'once', namespace: NS }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'shoal/hello', command: [process.execPath, '-e', `fetch('${url}').then(r=>r.text()).then(t=>{console.log('got',t.trim())})`] }] } } as any, { namespace: NS });
  // (the phase may read Succeeded a moment before the sidecar's termination is reported: wait for both)
  const once = await waitFor('the Never pod completes and its sidecar is stopped', async () => {
    const p: any = await api.get(R.pods, 'once', { namespace: NS });
    const proxyDone = p.status?.initContainerStatuses?.find((c: any) => c.name === 'istio-proxy')?.state?.terminated;
    return (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') && proxyDone ? p : undefined;
  }, 90_000).catch((e) => ({ error: (e as Error).message }));
  t.equal((once as any).status?.phase, 'Succeeded', `the injected Never pod completed: its app reached the server through the mesh, then the sidecar was stopped (${JSON.stringify((once as any).status?.initContainerStatuses?.map((c: any) => [c.name, c.state]) ?? once)})`);
  t.ok((once as any).status?.initContainerStatuses?.find((c: any) => c.name === 'istio-proxy')?.state?.terminated, 'the sidecar is terminated');
  const logs = await shoal('logs', '-n', NS, 'once', '-c', 'work');
  t.match(logs.stdout, /^got \{"pod":"server-/, 'the job container reached the server through the mesh');
  await api.create(R.jobs, {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once', namespace: NS },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'shoal/hello', command: [process.execPath, '-e', `fetch('${url}').then(r=>{if(!r.ok)process.exit(1)})`] }] } } },
  } as any, { namespace: NS });
  const job: any = await waitFor('the Job completes', async () => {
    const j: any = await api.get(R.jobs, 'once', { namespace: NS });
    return j.status?.succeeded >= 1 || j.status?.failed >= 1 ? j : undefined;
  }, 90_000).catch((e) => ({ error: (e as Error).message }));
  t.equal(job.status?.succeeded, 1, `the Job's injected pod reached the server through the mesh and completed (${JSON.stringify(job.status ?? job)})`);
  const jobPods: any = await api.list(R.pods, { namespace: NS, labelSelector: 'job-name=once' });
  t.ok(jobPods.items?.[0]?.spec?.initContainers?.some((c: any) => c.name === 'istio-proxy' && c.restartPolicy === 'Always'), 'the Job\'s pod had the native sidecar injected');
});
