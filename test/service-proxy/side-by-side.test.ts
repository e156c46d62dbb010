// Two clusters on one machine share the service range (every `shoal up` uses 10.96.0.0/12, DNS at
// 10.96.0.10), each with its own pod bridge. With `podInterface` set (`--pod-bridge-interface`, which
// `shoal up` passes), each proxy takes routed ClusterIP traffic only from its own bridge, so a pod always
// reaches its own cluster's backend behind the same VIP. Real kernel (root): two bridges, a client and a
// server netns on each, two tables mapping the same VIP:port to their own server.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fullSync, deleteTable, type RuleConfig } from '../../node/service-proxy/nftables/rules.js';
import type { ServicePort } from '../../node/service-proxy/model/servicemap.js';
import { rootSkip } from './fixture.js';
import { holdHostForwarding } from '../host-forwarding.js';

const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
const third = 100 + Math.floor(Math.random() * 100);
const VIP = `10.96.${third}.10`;
const run = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { input, encoding: 'utf8' });
function must(cmd: string, args: string[], input?: string): void {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

const SERVER = "require('http').createServer((q,s)=>s.end(process.argv[1])).listen(8080,()=>process.stdout.write('up\\n'))";
const CLIENT = `fetch('http://${VIP}/',{signal:AbortSignal.timeout(2000)}).then(r=>r.text()).then(t=>process.stdout.write(t),e=>process.stdout.write('error: '+e.message))`;

t.test('side-by-side clusters: each pod reaches its own backend behind the same ClusterIP', { skip: rootSkip() }, async (t) => {
  const sides = ['a', 'b'] as const;
  const procs: ChildProcess[] = [];
  const cfgs = sides.map((s): RuleConfig => ({ table: `shoalt-sbs-${tag}-${s}`, nodeName: 'n1', clusterCidr: '', nodePortAddresses: [], podInterface: `ssb${tag}${s}` }));
  t.teardown(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const c of cfgs) run('nft', ['-f', '-'], deleteTable(c));
    for (const s of sides) {
      for (const role of ['c', 's']) {
        run('ip', ['link', 'del', `ssb${tag}${s}${role}`]);
        run('ip', ['netns', 'del', `shoalt-sbs-${tag}-${s}${role}`]);
      }
      run('ip', ['link', 'del', `ssb${tag}${s}`]);
    }
    run('ip', ['route', 'del', 'unreachable', `${VIP}/32`]);
  });
  // the VIP never routes off the machine, whatever happens to the rules
  must('ip', ['route', 'add', 'unreachable', `${VIP}/32`]);
  for (const [i, s] of sides.entries()) {
    const br = `ssb${tag}${s}`;
    const net = `10.251.${third + i}`;
    must('ip', ['link', 'add', br, 'type', 'bridge']);
    must('ip', ['link', 'set', br, 'up']);
    must('ip', ['addr', 'add', `${net}.1/24`, 'dev', br]);
    for (const [j, role] of ['c', 's'].entries()) {
      const ns = `shoalt-sbs-${tag}-${s}${role}`;
      must('ip', ['netns', 'add', ns]);
      must('ip', ['link', 'add', `${br}${role}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      must('ip', ['link', 'set', `${br}${role}`, 'master', br, 'up']);
      must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      must('ip', ['-n', ns, 'addr', 'add', `${net}.${j + 2}/24`, 'dev', 'eth0']);
      must('ip', ['-n', ns, 'route', 'add', 'default', 'via', `${net}.1`]);
    }
    const server = spawn('ip', ['netns', 'exec', `shoalt-sbs-${tag}-${s}s`, process.execPath, '-e', SERVER, `backend-${s}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(server);
    await new Promise<void>((res, rej) => {
      server.stdout!.once('data', () => res());
      server.once('exit', (c) => rej(new Error(`server ${s} exited ${c}`)));
    });
    const svc: ServicePort = {
      id: 'default/web/tcp/80', svcKey: 'default/web', protocol: 'TCP', port: 80, clusterIPs: [VIP], externalIPs: [], loadBalancerIPs: [],
      internalLocal: false, externalLocal: false, endpoints: [{ ip: `${net}.3`, port: 8080, ready: true, serving: true, terminating: false, nodeName: 'n1' }],
    };
    must('nft', ['-f', '-'], fullSync(cfgs[i]!, [[svc]]));
  }
  // the VIP is DNATed to a server on the client's own bridge and routed back out of it: forwarding, held as
  // `shoal up` holds it (a guard on each bridge first), released in teardown
  holdHostForwarding(t, `shoalt-sbs-${tag}`, sides.map((s, i) => ({ bridge: `ssb${tag}${s}`, allowed: [`10.251.${third + i}.0/24`, `${VIP}/32`] })));
  for (const s of sides) {
    const r = run('ip', ['netns', 'exec', `shoalt-sbs-${tag}-${s}c`, process.execPath, '-e', CLIENT]);
    t.equal(r.stdout, `backend-${s}`, `a pod on bridge ${s} reaches its own cluster's backend`);
  }
  const listed = run('nft', ['list', 'chain', 'ip', cfgs[0]!.table, 'nat-prerouting']).stdout;
  t.match(listed, new RegExp(`iifname "${cfgs[0]!.podInterface}" jump services`), 'ClusterIPs only from the own bridge');
  t.match(listed, new RegExp(`iifname != "${cfgs[0]!.podInterface}" fib daddr type local meta l4proto \\. th dport vmap @service-nodeports`), 'NodePorts from anywhere');
});
