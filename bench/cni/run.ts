// bench/cni: ADD and DEL latency of shoal-bridge (through the shim, with the resident daemon and
// standalone) against the reference bridge + host-local, in the same run, interleaved per cycle so
// machine drift hits all three alike. Root only. Not a test: it prints a table, nothing fails.
//   node dist/bench/cni/run.js [cycles=50]

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCni } from '../../cni/install.js';

const cycles = Number(process.argv[2] ?? 50);
const warmup = 3;
const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
const dir = mkdtempSync(join(tmpdir(), `shoalt-cnibench-${tag}-`));
const bin = join(dir, 'bin');
const socket = join(dir, 'cni.sock');
const refDir = '/usr/lib/cni';
const cleanup: (() => void)[] = [() => rmSync(dir, { recursive: true, force: true })];

interface Mode {
  name: string;
  file: string;
  env: Record<string, string>;
  conf: object;
  ns: string;
  add: number[];
  del: number[];
}

function mode(name: string, file: string, type: string, ipam: string, octet: number, env: Record<string, string>): Mode {
  const ns = `shoalt-cnib-${tag}-${octet}`;
  spawnSync('ip', ['netns', 'add', ns]);
  cleanup.push(() => spawnSync('ip', ['netns', 'del', ns]));
  const br = `sb${tag}${octet}`;
  cleanup.push(() => spawnSync('ip', ['link', 'del', br]));
  // isGateway off for every mode: the reference bridge would enable host-wide forwarding.
  const conf = { cniVersion: '1.0.0', name: `bench${octet}`, type, bridge: br, ipam: { type: ipam, dataDir: join(dir, 'data'), ranges: [[{ subnet: `10.99.${octet}.0/24` }]] } };
  return { name, file, env: { ...env, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: `${bin}:${refDir}` }, conf, ns, add: [], del: [] };
}

function call(m: Mode, cmd: string, id: string): number {
  const t0 = performance.now();
  const r = spawnSync(m.file, [], { input: JSON.stringify(m.conf), env: { PATH: process.env.PATH, CNI_COMMAND: cmd, CNI_CONTAINERID: id, ...m.env } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${m.name} ${cmd}: exit ${r.status}: ${r.stdout} ${r.stderr}`);
  return ms;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/cni needs root (network namespaces)');
    process.exitCode = 1;
    return;
  }
  installCni({ binDir: bin, confDir: join(dir, 'net.d'), socket, ipMasq: false });
  const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
  const daemon = spawn(process.execPath, [join(root, 'cni', 'daemon', 'main.js'), '--socket', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.unshift(() => {
    if (daemon.pid && daemon.exitCode === null) process.kill(daemon.pid);
  });
  await new Promise<void>((res) => daemon.stderr.once('data', () => res()));
  const modes = [
    mode('reference bridge + host-local', join(refDir, 'bridge'), 'bridge', 'host-local', 201, {}),
    mode('shoal (daemon)', join(bin, 'shoal-bridge'), 'shoal-bridge', 'shoal-ipam', 202, { SHOAL_CNI_SOCKET: socket }),
    mode('shoal (standalone)', join(bin, 'shoal-bridge'), 'shoal-bridge', 'shoal-ipam', 203, { SHOAL_CNI_SOCKET: join(dir, 'none.sock') }),
  ];
  for (let i = 0; i < warmup + cycles; i++) {
    for (const m of modes) {
      const a = call(m, 'ADD', `c${i}`);
      const d = call(m, 'DEL', `c${i}`);
      if (i >= warmup) {
        m.add.push(a);
        m.del.push(d);
      }
    }
  }
  const ref = modes[0];
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log(`bench/cni: ${cycles} ADD+DEL cycles after ${warmup} warm-up, interleaved; times in ms (node spawnSync of the plugin)`);
  console.log('mode                            ADD p50  ADD p99  DEL p50  DEL p99  ADD p50/ref  DEL p50/ref');
  for (const m of modes) {
    console.log(
      `${m.name.padEnd(30)} ${f(pct(m.add, 50))}  ${f(pct(m.add, 99))}  ${f(pct(m.del, 50))}  ${f(pct(m.del, 99))}  ${(pct(m.add, 50) / pct(ref.add, 50)).toFixed(2).padStart(11)}  ${(pct(m.del, 50) / pct(ref.del, 50)).toFixed(2).padStart(11)}`,
    );
  }
  console.log('targets: daemon ADD p50 <= 1.5x reference, daemon DEL p50 <= 1.0x reference, standalone ADD p50 <= 100 ms');
}

try {
  await main();
} finally {
  for (const c of cleanup) {
    try {
      c();
    } catch {
      /* best effort */
    }
  }
}
