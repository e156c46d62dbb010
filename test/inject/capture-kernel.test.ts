// The init step for real: `node dist/sidecar/init/main.js` run inside a fresh network namespace (as the
// agent runs istio-init in the pod's), then TCP connections made from and into that namespace show where
// they land. The "pod" namespace has listeners on 15001 (OUT), 15006 (IN), 15008, 15021, 9000, 8081;
// the "peer" namespace serves the pod's outbound destinations. Root only; namespaces are
// shoalt-cap-<tag>-{pod,peer}, removed at the end and cleared of leftovers at the start.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import t from 'tap';

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, nftables); CI runs as root' : false;
const PREFIX = 'shoalt-cap-';
const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
const POD = `${PREFIX}${tag}-pod`;
const PEER = `${PREFIX}${tag}-peer`;
const third = 1 + Math.floor(Math.random() * 250);
const POD_IP = `10.250.${third}.2`;
const PEER_IP = `10.250.${third}.1`;
const OTHER_IP = `10.251.${third}.1`; // a second address of the peer, outside the included range
const INIT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sidecar', 'init', 'main.js');

// children get a clean environment (no test-runner hooks in NODE_OPTIONS, which a non-root UID cannot run)
const ENV = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };

function sh(cmd: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', input, env: ENV });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
function must(cmd: string[]): void {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')}: ${r.out}`);
}
function cleanup(): void {
  for (const l of sh(['ip', 'netns', 'list']).out.split('\n')) {
    const n = l.split(' ')[0]!;
    if (n.startsWith(PREFIX)) sh(['ip', 'netns', 'del', n]);
  }
}

// a labelled TCP server per port: writes "<label>" then closes
const SERVER = `
const net = require('net');
const ports = JSON.parse(process.argv[1]);
let n = 0;
for (const [port, label] of Object.entries(ports)) {
  net.createServer((s) => { s.on('error', () => {}); s.end(label); }).listen(Number(port), '0.0.0.0', () => { if (++n === Object.keys(ports).length) console.log('ready'); });
}`;
// connects, prints what it reads (or ERR <code>)
const CLIENT = `
const s = require('net').connect(Number(process.argv[2]), process.argv[1]);
let b = '';
s.setTimeout(3000, () => { console.log('ERR timeout'); process.exit(0); });
s.on('data', (d) => (b += d)); s.on('end', () => console.log(b)); s.on('error', (e) => console.log('ERR ' + e.code));`;

function startServers(ns: string, ports: Record<number, string>): Promise<ChildProcess> {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, JSON.stringify(ports)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  return new Promise((resolve, reject) => {
    p.stdout!.once('data', () => resolve(p));
    p.once('exit', (c) => reject(new Error(`servers in ${ns} exited ${c}`)));
  });
}

function connect(ns: string, host: string, port: number, uid?: number): string {
  const pre = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  // env -i: the test runner hooks child processes through the environment; a non-root UID cannot run them
  return sh(['ip', 'netns', 'exec', ns, 'env', '-i', `PATH=${ENV.PATH}`, ...pre, process.execPath, '-e', CLIENT, host, String(port)]).out.trim();
}

t.test('capture rules in a real network namespace', { skip }, async (t) => {
  cleanup();
  t.teardown(cleanup);
  must(['ip', 'netns', 'add', POD]);
  must(['ip', 'netns', 'add', PEER]);
  must(['ip', 'link', 'add', `sc${tag}p`, 'netns', POD, 'type', 'veth', 'peer', 'name', `sc${tag}q`, 'netns', PEER]);
  must(['ip', '-n', POD, 'addr', 'add', `${POD_IP}/24`, 'dev', `sc${tag}p`]);
  must(['ip', '-n', PEER, 'addr', 'add', `${PEER_IP}/24`, 'dev', `sc${tag}q`]);
  must(['ip', '-n', PEER, 'addr', 'add', `${OTHER_IP}/24`, 'dev', `sc${tag}q`]);
  for (const [ns, dev] of [[POD, `sc${tag}p`], [PEER, `sc${tag}q`]] as const) {
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  must(['ip', '-n', POD, 'route', 'add', 'default', 'via', PEER_IP]);
  const procs: ChildProcess[] = [];
  t.teardown(() => {
    for (const p of procs) if (p.pid) process.kill(p.pid, 'SIGKILL');
  });
  procs.push(await startServers(POD, { 15001: 'OUT', 15006: 'IN', 15008: 'HBONE', 15021: 'HEALTH', 15000: 'ADMIN', 9000: 'APP9000', 8081: 'APP8081', 8080: 'APP8080' }));
  procs.push(await startServers(PEER, { 80: 'PEER80', 5432: 'PEER5432', 443: 'PEER443' }));

  t.equal(connect(POD, PEER_IP, 80), 'PEER80', 'before the init step: direct');
  const init = (args: string[]) => sh(['ip', 'netns', 'exec', POD, process.execPath, INIT, ...args]);

  t.test('defaults (what the injector writes) plus exclusions', async (t) => {
    const r = init(['-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', `${PEER_IP}/32`, '-b', '*', '-d', '15090,15021,15020,9000', '-o', '5432']);
    t.equal(r.code, 0, r.out);
    t.equal(connect(POD, OTHER_IP, 80), 'OUT', 'root → any TCP address → :15001');
    t.equal(connect(POD, '192.0.2.7', 443), 'OUT', 'even an address with no listener anywhere');
    t.equal(connect(POD, OTHER_IP, 80, 1000), 'OUT', 'UID 1000 → :15001');
    t.equal(connect(POD, OTHER_IP, 80, 1337), 'PEER80', 'UID 1337 (the proxy) is not captured');
    t.equal(connect(POD, OTHER_IP, 5432), 'PEER5432', 'excluded outbound port');
    t.equal(connect(POD, PEER_IP, 80), 'PEER80', 'excluded outbound CIDR');
    t.equal(connect(POD, '127.0.0.1', 8080), 'APP8080', 'loopback not captured');
    t.equal(connect(PEER, POD_IP, 8080), 'IN', 'inbound to the pod IP → :15006');
    t.equal(connect(PEER, POD_IP, 8081), 'IN', 'any inbound port → :15006');
    t.equal(connect(PEER, POD_IP, 15008), 'HBONE', '15008 not redirected');
    t.equal(connect(PEER, POD_IP, 15021), 'HEALTH', '15021 not redirected');
    t.equal(connect(PEER, POD_IP, 15000), 'ADMIN', '15000 not redirected');
    t.equal(connect(PEER, POD_IP, 9000), 'APP9000', 'excluded inbound port');
    const list = sh(['ip', 'netns', 'exec', POD, 'nft', 'list', 'tables']).out;
    t.equal(list.trim(), 'table ip shoal-capture', 'one table');
  });

  t.test('include lists; a second run replaces the table', async (t) => {
    const r = init(['-i', `${PEER_IP}/32`, '-b', '8080', '-d', '15090,15021,15020']);
    t.equal(r.code, 0, r.out);
    t.equal(connect(POD, PEER_IP, 80), 'OUT', 'included CIDR captured');
    t.equal(connect(POD, OTHER_IP, 80), 'PEER80', 'outside the included CIDRs: direct');
    t.equal(connect(PEER, POD_IP, 8080), 'IN', 'included inbound port captured');
    t.equal(connect(PEER, POD_IP, 8081), 'APP8081', 'other inbound port: direct');
    t.equal(sh(['ip', 'netns', 'exec', POD, 'nft', 'list', 'tables']).out.trim(), 'table ip shoal-capture', 'still one table');
  });

  t.test('bad flags', async (t) => {
    const r = init(['-p', 'x', '-i', '300.1.1.1/8', '--bogus']);
    t.equal(r.code, 64);
    t.match(r.out, '-p "x": must be a port');
    t.match(r.out, '-i "300.1.1.1/8": "300.1.1.1/8" is not an IPv4 CIDR');
    t.match(r.out, '--bogus: unknown flag');
    t.equal(connect(POD, PEER_IP, 80), 'OUT', 'the previous rules are untouched');
  });
});
