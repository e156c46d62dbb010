// Unit tests of the agent's pure parts and seams (no root, no sockets): env resolution, back-off math,
// probe thresholds and timing with a fake clock, pod phase and conditions, resolv.conf/hosts, the image
// catalog, flags, and the adoption decision with a fake Os.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, expand, resolveEnv, type ObjectSource } from '../../node/agent/containers/env.js';
import { nextDelay, shouldRestart, kubeletBackoff, type BackoffState } from '../../node/agent/containers/backoff.js';
import { ProbeLoop, ThresholdCounter } from '../../node/agent/probes/probe.js';
import { FakeClock } from '../../lib/time/fake.js';
import { podPhase, podStatus, type ContainerStatus, type PodSnapshot } from '../../node/agent/pods/status.js';
import { hostsFile, resolvConf } from '../../node/agent/sandbox/dns.js';
import { ImageCatalog, containerArgv, parseImageRef } from '../../node/agent/images/catalog.js';
import { parseAgentFlags } from '../../node/agent/config.js';
import { Sandboxes, holderScript } from '../../node/agent/sandbox/sandbox.js';
import { formatDelay } from '../../node/agent/containers/container.js';
import { limitsOf } from '../../node/agent/containers/cgroups.js';
import { tailLines } from '../../node/agent/server/server.js';
import type { Os } from '../../node/agent/os.js';
import type { Pod } from '../../node/agent/pods/types.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const objects: ObjectSource = {
  secret: async (_ns, name) => (name === 'db' ? { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { user: b64('admin'), pw: b64('p@ss') } } as any : undefined),
  configMap: async (_ns, name) => (name === 'cfg' ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { MODE: 'fast', level: 'debug' } } as any : undefined),
};
const facts = { podIP: '10.244.0.7', podIPs: ['10.244.0.7'], hostIP: '192.168.1.5', nodeCpu: 4, nodeMemory: 8 * 2 ** 30 };
const pod = (containers: any[], extra: Record<string, any> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web', tier: 'fe' }, annotations: { note: 'x' } },
  spec: { nodeName: 'n1', serviceAccountName: 'sa1', containers, ...extra },
});

t.test('env: every valueFrom kind, envFrom, expansion, errors', async (t) => {
  const rows: { name: string; c: any; want?: Record<string, string>; wantError?: RegExp }[] = [
    { name: 'plain and expansion', c: { env: [{ name: 'A', value: 'x' }, { name: 'B', value: '$(A)-$(NOPE)-$$(A)' }] }, want: { A: 'x', B: 'x-$(NOPE)-$(A)' } },
    { name: 'fieldRef', c: { env: ['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['note']", 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.hostIP', 'status.podIPs'].map((f, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath: f } } })) },
      want: { F0: 'web-1', F1: 'shop', F2: 'u-1', F3: 'web', F4: 'x', F5: 'n1', F6: 'sa1', F7: '10.244.0.7', F8: '192.168.1.5', F9: '10.244.0.7' } },
    { name: 'metadata.labels all', c: { env: [{ name: 'L', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } }] }, want: { L: 'app="web"\ntier="fe"' } },
    { name: 'resourceFieldRef with and without limits', c: { resources: { limits: { memory: '128Mi', cpu: '250m' }, requests: { cpu: '100m' } }, env: [
      { name: 'M', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'C', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'CM', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
    ] }, want: { M: '128', C: '1', CM: '100' } },
    { name: 'resourceFieldRef falls back to node allocatable', c: { env: [{ name: 'C', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }, { name: 'M', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Gi' } } }] }, want: { C: '4', M: '8' } },
    { name: 'secretKeyRef and configMapKeyRef', c: { env: [{ name: 'U', valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } }, { name: 'L', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'level' } } }] }, want: { U: 'admin', L: 'debug' } },
    { name: 'optional missing refs are skipped', c: { env: [{ name: 'U', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } }, { name: 'K', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nokey', optional: true } } }] }, want: {} },
    { name: 'envFrom with prefix, env wins', c: { envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'db' } }], env: [{ name: 'user', value: 'override' }] }, want: { CFG_MODE: 'fast', CFG_level: 'debug', user: 'override', pw: 'p@ss' } },
    { name: 'missing secret', c: { env: [{ name: 'U', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, wantError: /env\[0\] U: secret "nope" not found/ },
    { name: 'missing key', c: { env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nokey' } } }] }, wantError: /couldn't find key nokey in ConfigMap shop\/cfg/ },
    { name: 'missing envFrom config map', c: { envFrom: [{ configMapRef: { name: 'gone' } }] }, wantError: /envFrom\[0\]: configmap "gone" not found/ },
    { name: 'bad fieldPath', c: { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] }, wantError: /fieldRef.fieldPath: Unsupported value/ },
  ];
  for (const r of rows) {
    const c = { name: 'c', ...r.c };
    const p = pod([c]);
    if (r.wantError) {
      await t.rejects(resolveEnv(p, c, objects, facts), r.wantError, r.name);
      await t.rejects(resolveEnv(p, c, objects, facts), ConfigError, `${r.name}: a ConfigError`);
    } else t.same(await resolveEnv(p, c, objects, facts), r.want, r.name);
  }
  t.equal(expand('$(A)$(A)', { A: '1' }), '11');
});

t.test('restart policy and back-off', async (t) => {
  const policies: [string | undefined, number, boolean][] = [['Always', 0, true], [undefined, 1, true], ['OnFailure', 0, false], ['OnFailure', 2, true], ['Never', 1, false], ['Never', 0, false]];
  for (const [p, code, want] of policies) t.equal(shouldRestart(p, code), want, `${p} exit ${code}`);
  let s: BackoffState = {};
  const seq: number[] = [];
  for (let i = 0; i < 8; i++) {
    const r = nextDelay(s, 1000);
    seq.push(r.delayMs / 1000);
    s = r.state;
  }
  t.same(seq, [0, 10, 20, 40, 80, 160, 300, 300], 'immediate, then 10 s doubling to 5 min');
  t.same(nextDelay(s, kubeletBackoff.resetAfterMs).delayMs, 0, 'a 10 min run resets');
  t.same(nextDelay({ lastDelayMs: 40_000 }, 599_999).delayMs, 80_000, 'just under 10 min does not');
  t.same([10_000, 80_000, 300_000].map(formatDelay), ['10s', '1m20s', '5m0s']);
});

const fakeClock = () => new FakeClock(0);

t.test('probe thresholds', async (t) => {
  const rows: { s: number; f: number; seq: boolean[]; want: (boolean | undefined)[] }[] = [
    { s: 1, f: 3, seq: [true, false, false, false, true], want: [true, undefined, undefined, false, true] },
    { s: 2, f: 1, seq: [true, true, false, true, true], want: [undefined, true, false, undefined, true] },
    { s: 1, f: 2, seq: [false, true, false, false], want: [undefined, true, undefined, false] },
  ];
  for (const r of rows) {
    const c = new ThresholdCounter(r.s, r.f);
    t.same(r.seq.map((ok) => c.record(ok)), r.want, `success ${r.s} failure ${r.f}`);
  }
});

t.test('probe timing: initialDelay, period, failureThreshold', async (t) => {
  const clock = fakeClock();
  const results: [number, boolean][] = [];
  let ok = true;
  const calls: number[] = [];
  const loop = new ProbeLoop({ initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 2, exec: { command: ['x'] } }, async () => {
    calls.push(clock.now());
    return { ok, message: ok ? '' : 'bad' };
  }, (r) => results.push([clock.now(), r]), clock);
  loop.start();
  await clock.advance(4999);
  t.equal(calls.length, 0, 'nothing before initialDelaySeconds');
  await clock.advance(1);
  t.same(calls, [5000]);
  t.same(results, [[5000, true]], 'success at once (successThreshold 1)');
  ok = false;
  await clock.advance(4000);
  t.same(calls, [5000, 7000, 9000], 'every periodSeconds');
  t.same(results, [[5000, true], [9000, false]], 'failure after failureThreshold in a row');
  loop.stop();
  await clock.advance(10000);
  t.equal(calls.length, 3, 'stopped');
});

const st = (name: string, state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}): ContainerStatus => ({ name, image: 'i', imageID: '', state, lastState: {}, ready: false, started: false, restartCount: 0, ...extra });
const snap = (statuses: ContainerStatus[], extra: Partial<PodSnapshot> = {}): PodSnapshot => ({ hostIP: '10.0.0.1', podIPs: ['10.244.0.2'], initStatuses: [], statuses, initialized: true, ...extra });
const run = { running: { startedAt: 't' } };
const term = (code: number) => ({ terminated: { exitCode: code, reason: code ? 'Error' : 'Completed', finishedAt: 't' } });

t.test('pod phase (kubelet getPhase)', async (t) => {
  const rows: { name: string; policy?: string; s: PodSnapshot; want: string }[] = [
    { name: 'creating', s: snap([st('a', { waiting: { reason: 'ContainerCreating' } })]), want: 'Pending' },
    { name: 'running', s: snap([st('a', run)]), want: 'Running' },
    { name: 'one running one waiting', s: snap([st('a', run), st('b', { waiting: { reason: 'ErrImagePull' } })]), want: 'Pending' },
    { name: 'crash loop counts as running', s: snap([st('a', { waiting: { reason: 'CrashLoopBackOff' } }, { lastState: term(1) })]), want: 'Running' },
    { name: 'all done ok, Never', policy: 'Never', s: snap([st('a', term(0))]), want: 'Succeeded' },
    { name: 'one failed, Never', policy: 'Never', s: snap([st('a', term(0)), st('b', term(1))]), want: 'Failed' },
    { name: 'failed, OnFailure', policy: 'OnFailure', s: snap([st('a', term(1))]), want: 'Running' },
    { name: 'done, OnFailure', policy: 'OnFailure', s: snap([st('a', term(0))]), want: 'Succeeded' },
    { name: 'init pending', s: snap([st('a', { waiting: { reason: 'PodInitializing' } })], { initialized: false, initStatuses: [st('i', run)] }), want: 'Pending' },
    { name: 'init failed, Never', policy: 'Never', s: snap([st('a', { waiting: { reason: 'PodInitializing' } })], { initialized: false, initStatuses: [st('i', term(1))] }), want: 'Failed' },
  ];
  for (const r of rows) t.equal(podPhase(pod([{ name: 'a' }], { restartPolicy: r.policy }), r.s), r.want, r.name);
});

t.test('pod conditions and status fields', async (t) => {
  const p = pod([{ name: 'a' }]);
  const ready = podStatus(p, snap([st('a', run, { ready: true, started: true })]), new Date('2025-01-01T00:00:00Z'));
  const cond = (s: any, type: string) => s.conditions.find((c: any) => c.type === type);
  t.equal(ready.phase, 'Running');
  for (const c of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) t.equal(cond(ready, c).status, 'True', c);
  t.same([ready.podIP, ready.podIPs, ready.hostIP], ['10.244.0.2', [{ ip: '10.244.0.2' }], '10.0.0.1']);
  t.equal(ready.qosClass, 'BestEffort');
  const p2 = { ...p, status: ready };
  const unready = podStatus(p2, snap([st('a', run, { ready: false })]), new Date('2025-01-01T00:01:00Z'));
  t.equal(cond(unready, 'Ready').status, 'False');
  t.equal(cond(unready, 'Ready').reason, 'ContainersNotReady');
  t.equal(cond(unready, 'Ready').lastTransitionTime, '2025-01-01T00:01:00Z', 'transition time moves on change');
  t.equal(cond(unready, 'PodScheduled').lastTransitionTime, '2025-01-01T00:00:00Z', 'and stays otherwise');
  const init = podStatus(p, snap([st('a', { waiting: { reason: 'PodInitializing' } })], { initialized: false, initStatuses: [st('i1', run)] }), new Date());
  t.equal(cond(init, 'Initialized').status, 'False');
  t.match(cond(init, 'Initialized').message, /\[i1\]/);
});

t.test('resolv.conf and hosts', async (t) => {
  const dns = { clusterDns: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: 'nameserver 1.1.1.1\nsearch corp.example\noptions edns0\n' };
  const rows: { name: string; extra: Record<string, any>; want: string }[] = [
    { name: 'ClusterFirst', extra: {}, want: 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' },
    { name: 'hostNetwork falls back to Default', extra: { hostNetwork: true }, want: 'nameserver 1.1.1.1\nsearch corp.example\noptions edns0\n' },
    { name: 'ClusterFirstWithHostNet', extra: { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, want: 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' },
    { name: 'None with dnsConfig', extra: { dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['a.b'], options: [{ name: 'ndots', value: '2' }] } }, want: 'nameserver 9.9.9.9\nsearch a.b\noptions ndots:2\n' },
    { name: 'dnsConfig options override', extra: { dnsConfig: { options: [{ name: 'ndots', value: '1' }, { name: 'single-request' }] } }, want: 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:1 single-request\n' },
  ];
  for (const r of rows) t.equal(resolvConf(pod([{ name: 'a' }], r.extra), dns), r.want, r.name);
  const h = hostsFile(pod([{ name: 'a' }], { hostname: 'h1', subdomain: 'sub', hostAliases: [{ ip: '1.2.3.4', hostnames: ['foo', 'bar'] }] }), ['10.244.0.9'], 'cluster.local');
  t.match(h, /^127\.0\.0\.1\tlocalhost$/m);
  t.match(h, /^10\.244\.0\.9\th1\.sub\.shop\.svc\.cluster\.local\th1$/m);
  t.match(h, /^1\.2\.3\.4\tfoo\tbar$/m);
  t.equal(hostsFile(pod([{ name: 'a' }]), ['10.244.0.9'], 'cluster.local').match(/web-1/g)?.length, 1, 'pod name once');
});

t.test('image catalog', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-agent-unit-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const cat = new ImageCatalog(home);
  const refs: [string, { name: string; tag: string }][] = [
    ['busybox', { name: 'busybox', tag: 'latest' }], ['docker.io/library/alpine:3.19', { name: 'alpine', tag: '3.19' }],
    ['localhost:5000/app:v2', { name: 'localhost:5000/app', tag: 'v2' }], ['shoal/hello:1@sha256:abc', { name: 'shoal/hello', tag: '1' }],
  ];
  for (const [ref, want] of refs) t.same(parseImageRef(ref), want, ref);
  t.equal(cat.resolve('shoal/hello:7')?.tag, '7');
  t.match(cat.resolve('shoal/hello:7')?.entrypoint[2], /node\/images\/hello\.mjs$/);
  t.equal(cat.resolve('example.com/unknown:1'), undefined);
  t.throws(() => cat.add('Bad Name', ['x']), /image: invalid reference/);
  t.throws(() => cat.add('ok', []), /command: Required value/);
  t.equal(cat.add('myapp:v1', ['python3', '-m', 'http.server']), 'myapp:v1');
  t.equal(cat.add('tool', ['echo', 'any']), 'tool');
  t.same(cat.resolve('myapp:v1')?.entrypoint, ['python3', '-m', 'http.server']);
  t.equal(cat.resolve('myapp:v2'), undefined, 'tagged entry matches only its tag');
  t.equal(cat.resolve('tool:9')?.source, 'user', 'untagged entry matches any tag');
  t.ok(cat.list().some((i) => i.image === 'myapp:v1' && i.source === 'user'));
  t.ok(cat.list().some((i) => i.image === 'shoal/pause' && i.source === 'builtin'));
  t.equal(cat.remove('tool'), true);
  t.equal(cat.remove('tool'), false);
  const img = { entrypoint: ['/bin/ep'], cmd: ['default'] };
  t.same(containerArgv(img), ['/bin/ep', 'default']);
  t.same(containerArgv(img, undefined, ['a']), ['/bin/ep', 'a']);
  t.same(containerArgv(img, ['cmd'], ['a']), ['cmd', 'a']);
  t.same(containerArgv(img, ['cmd']), ['cmd'], 'command drops the image CMD');
});

t.test('flags', async (t) => {
  const ok = parseAgentFlags(['--node-name', 'n1', '--port', '0', '--home', '/tmp/h', '--cluster-dns', '10.96.0.10'], {});
  t.equal(ok.config?.port, 0);
  t.equal(ok.config?.kubeconfig, '/tmp/h/kubeconfig');
  t.same(ok.config?.cniBinDirs, ['/opt/cni/bin', '/usr/lib/cni']);
  const bad = parseAgentFlags(['--port', 'x', '--pod-cidr', '10.1.2.3', '--bogus', '1', '--cluster-dns', 'nope', 'extra'], {});
  t.equal(bad.config, undefined);
  t.same(bad.problems.length, 6, bad.problems.join('; ')); // the bogus flag's value also shows as an unexpected argument
  for (const re of [/--port/, /--pod-cidr/, /unknown flag: --bogus/, /--cluster-dns/, /unexpected argument/]) t.ok(bad.problems.some((p) => re.test(p)), String(re));
});

t.test('small helpers', async (t) => {
  t.same(limitsOf({ name: 'c', resources: { limits: { memory: '64Mi', cpu: '250m' } } }), { memoryBytes: 64 * 2 ** 20, cpuMilli: 250 });
  t.same(limitsOf({ name: 'c' }), {});
  t.equal(tailLines('a\nb\nc\n', 2), 'b\nc\n');
  t.equal(tailLines('a\nb\nc', 1), 'c');
  t.equal(tailLines('a\n', 0), '');
  const s = holderScript('web', [{ source: '/s/resolv.conf', target: '/etc/resolv.conf' }], [{ source: "/v/it's", target: '/data', readOnly: true }]);
  t.match(s, /^hostname web$/m);
  t.match(s, /^mount --bind '\/v\/it'\\''s' \/data$/m);
  t.match(s, /^mount -o remount,bind,ro \/data$/m);
});

t.test('adoption decision', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-agent-unit-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const procs = new Map<number, string>([[100, 'start-100']]);
  const os: Os = {
    run: async () => ({ code: 0, stdout: '', stderr: '' }),
    spawnDetached: () => { throw new Error('not here'); },
    alive: (pid) => procs.has(pid),
    kill: () => true,
    children: () => [],
    startTime: (pid) => procs.get(pid) ?? '',
  };
  const sb = new Sandboxes({ os, home, netnsPrefix: 'x-', cniConfDir: home, dns: { clusterDns: [], clusterDomain: 'c', hostResolvConf: '' } });
  const write = (uid: string, holderPid: number, holderStart: string) => {
    mkdirSync(join(home, 'pods', uid), { recursive: true });
    writeFileSync(join(home, 'pods', uid, 'sandbox.json'), JSON.stringify({ uid, dir: join(home, 'pods', uid), hostNetwork: true, hostPID: false, podIPs: [], holderPid, holderStart, launcherPid: -1, createdDirs: [] }));
  };
  write('alive', 100, 'start-100');
  write('reused', 100, 'start-other');
  write('dead', 200, 'x');
  const rows: [string, boolean][] = [['alive', true], ['reused', false], ['dead', false], ['absent', false]];
  for (const [uid, want] of rows) t.equal(!!sb.adopt(uid), want, uid);
  t.same(sb.known().sort(), ['alive', 'dead', 'reused']);
});

t.test('host routes are held per node: removed only when no other node needs them', async (t) => {
  const { holdRoutes, releaseRoutes } = await import('../../node/agent/sandbox/routes.js');
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-routes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const both = ['10.96.0.0/12', '10.244.0.0/16'];
  t.ok(holdRoutes('node-a', both, dir));
  t.ok(holdRoutes('node-b', ['10.96.0.0/12'], dir));
  t.same(releaseRoutes('node-a', both, dir), ['10.244.0.0/16'], 'node-b still needs the service range');
  t.same(releaseRoutes('node-b', ['10.96.0.0/12'], dir), ['10.96.0.0/12'], 'the last holder lets it go');
  t.same(releaseRoutes('never-held', both, dir), both, 'nobody holds anything: all go');
  writeFileSync(join(dir, 'garbage'), 'not json');
  t.same(releaseRoutes('x', both, dir), both, 'an unreadable record is ignored');
  t.same(releaseRoutes('x', both, join(dir, 'missing')), both, 'no record dir: behave as before (remove)');
  writeFileSync(join(dir, 'a-file'), '');
  t.notOk(holdRoutes('x', both, join(dir, 'a-file', 'sub')), 'an unwritable dir is reported, not thrown');
});
