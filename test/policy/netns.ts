// A bare kernel harness for the policy table (root only): N "pods" as network namespaces on one
// per-test bridge, each running a tiny server on TCP 80/81 and UDP 80/81, and a prober that runs inside
// a pod and tries every target in parallel with short timeouts. No API server: tests feed the model's
// table straight to `nft -f -`, so the kernel is checked against the model packet by packet.
// Everything (servers, veths, bridge, netns, table) is removed in t.teardown, even on failure.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { allowed, type PodPolicy, type Protocol } from '../../node/policy/model/policy.js';
import { holdHostForwarding } from '../host-forwarding.js';

/** Whether the kernel tests can run, or why not. */
export function rootSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (netns, nftables); CI runs as root';
  if (spawnSync('nft', ['--version']).status !== 0) return 'needs nft (Debian package nftables)';
  return false;
}

const SERVER = `const net=require('net'),dgram=require('dgram');
for(const p of [80,81]){net.createServer(s=>{s.on('error',()=>{});s.end('ok')}).listen(p,'0.0.0.0');
const u=dgram.createSocket('udp4');u.on('message',(m,r)=>u.send('ok',r.port,r.address));u.bind(p,'0.0.0.0');}
setTimeout(()=>process.stdout.write('up\\n'),50);`;

const PROBE = `const net=require('net'),dgram=require('dgram');const T=+process.argv[1];const ts=JSON.parse(process.argv[2]);
const one=([ip,proto,port])=>new Promise(res=>{if(proto==='tcp'){const s=net.connect({host:ip,port});const k=setTimeout(()=>{s.destroy();res(false)},T);
s.on('data',()=>{clearTimeout(k);s.destroy();res(true)});s.on('error',()=>{clearTimeout(k);res(false)})}else{const u=dgram.createSocket('udp4');
const k=setTimeout(()=>{u.close();res(false)},T);u.on('message',()=>{clearTimeout(k);u.close();res(true)});u.on('error',()=>{clearTimeout(k);try{u.close()}catch{};res(false)});u.send('hi',port,ip)}});
Promise.all(ts.map(one)).then(r=>process.stdout.write(JSON.stringify(r)));`;

/** One probe target. */
export type Target = [ip: string, proto: 'tcp' | 'udp', port: number];

/** The harness. */
export interface NetnsEnv {
  tag: string;
  /** pod name → IP */
  ips: Map<string, string>;
  /** pod name → netns name */
  netns: Map<string, string>;
  /** the bridge's address, every pod's default route (routed traffic, e.g. to a DNATed VIP) */
  gateway: string;
  /** table suffix owned by this test */
  suffix: string;
  /** applies nft text; throws with stderr on failure */
  nft(text: string): void;
  /** probes from `pod` to each target; true where a reply came back */
  probe(pod: string, targets: Target[], timeoutMs?: number): Promise<boolean[]>;
}

const run = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { input, encoding: 'utf8' });

/** Starts `pods` network namespaces on a bridge in 10.250.X.0/24 with servers running. */
export async function startNetns(t: Test, pods: string[]): Promise<NetnsEnv> {
  const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
  const third = Math.floor(Math.random() * 250) + 1;
  const bridge = `stp${tag}br`;
  const suffix = `t${tag}`;
  const procs: ChildProcess[] = [];
  const env: NetnsEnv = {
    tag, suffix, ips: new Map(), netns: new Map(), gateway: `10.250.${third}.1`,
    nft(text) {
      const r = run('nft', ['-f', '-'], text);
      if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
    },
    probe(pod, targets, timeoutMs = 400) {
      return new Promise((resolve, reject) => {
        const p = spawn('ip', ['netns', 'exec', env.netns.get(pod)!, process.execPath, '-e', PROBE, String(timeoutMs), JSON.stringify(targets)]);
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`probe from ${pod}: ${err}`))));
      });
    },
  };
  // teardown first, so a half-built harness is removed too (tap runs teardowns in reverse order)
  t.teardown(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    run('nft', ['delete', 'table', 'inet', `shoal-policy-${suffix}`]);
    run('nft', ['delete', 'table', 'ip', `shoalt-pol-nat-${suffix}`]);
    pods.forEach((_, i) => run('ip', ['link', 'del', `stp${tag}v${i}`]));
    run('ip', ['link', 'del', bridge]);
    for (const ns of env.netns.values()) run('ip', ['netns', 'del', ns]);
  });
  must('ip', ['link', 'add', bridge, 'type', 'bridge']);
  must('ip', ['link', 'set', bridge, 'up']);
  must('ip', ['addr', 'add', `${env.gateway}/24`, 'dev', bridge]);
  for (const [i, name] of pods.entries()) {
    const ns = `shoalt-pol-${tag}-${name}`;
    const ip = `10.250.${third}.${i + 2}`;
    env.netns.set(name, ns);
    env.ips.set(name, ip);
    must('ip', ['netns', 'add', ns]);
    must('ip', ['link', 'add', `stp${tag}v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must('ip', ['link', 'set', `stp${tag}v${i}`, 'master', bridge, 'up']);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    must('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    must('ip', ['-n', ns, 'route', 'add', 'default', 'via', env.gateway]);
  }
  // bridged IPv4 through the inet hooks (br_netfilter) and forwarding for routed traffic (a VIP DNATed
  // back onto the bridge), held like `shoal up` holds them: never switched off under another cluster
  holdHostForwarding(t, `shoalt-pol-${tag}`, [{ bridge, allowed: [`10.250.${third}.0/24`] }]);
  await Promise.all(pods.map((name) => new Promise<void>((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', env.netns.get(name)!, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(p);
    p.stdout!.once('data', () => resolve());
    p.once('exit', (c) => reject(new Error(`server in ${name} exited ${c}`)));
  })));
  return env;
}

function must(cmd: string, args: string[]): void {
  const r = run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** The probes of the kernel truth tables: TCP 80, TCP 81, UDP 80. */
export const TABLE_PROBES: [Protocol, number][] = [['TCP', 80], ['TCP', 81], ['UDP', 80]];

/**
 * Every pod probes every other pod on `probes`, in parallel; returns the denied pairs as lines
 * `src > dst proto/port: deny` (pods named by `label`), observed in the kernel and expected by the model.
 */
export async function deniedPairs(env: NetnsEnv, pods: string[], model: PodPolicy[], label: (pod: string) => string = (p) => p,
  probes: [Protocol, number][] = TABLE_PROBES): Promise<{ observed: string[]; expected: string[] }> {
  const observed: string[] = [];
  const expected: string[] = [];
  await Promise.all(pods.map(async (src) => {
    const dsts = pods.filter((d) => d !== src);
    const targets: Target[] = dsts.flatMap((d) => probes.map(([pr, port]) => [env.ips.get(d)!, pr === 'TCP' ? 'tcp' : 'udp', port] as Target));
    const got = await env.probe(src, targets);
    targets.forEach(([ip, pr, port], i) => {
      const line = `${label(src)} > ${label(dsts[Math.floor(i / probes.length)]!)} ${pr}/${port}: deny`;
      if (!got[i]) observed.push(line);
      if (!allowed(model, env.ips.get(src)!, ip, pr.toUpperCase() as Protocol, port)) expected.push(line);
    });
  }));
  return { observed: observed.sort(), expected: expected.sort() };
}
