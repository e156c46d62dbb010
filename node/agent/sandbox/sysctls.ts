// Host settings the node depends on (DESIGN.md "Networks"), as kubelet and kube-proxy document theirs:
//   net.ipv4.ip_forward=1                   a pod's packet to a ClusterIP is DNATed to a pod on the same
//                                           bridge and must be routed back out of it
//   net.bridge.bridge-nf-call-iptables=1    bridged pod traffic goes through the netfilter hooks (policy),
//                                           where the kernel has it (br_netfilter is loaded when missing)
// A fresh machine has forwarding off. Several clusters may run on one host at once (side-by-side clusters,
// parallel tests), and these settings are global, so they are held like the host routes (routes.ts): one
// record per holder in /run/shoal/sysctl-holders, the first holder records each original value and switches
// it on, the last one to leave restores what Shoal changed. A holder whose process is gone does not count,
// so a crashed cluster cannot keep forwarding on forever; a value somebody else changed meanwhile is left
// alone. The caller switches forwarding on only after the egress guard exists (cli/up).

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { runSync } from '../../../lib/host/run.js';
import { realSysctls as hostSysctls } from '../../../lib/host/sysctl.js';
import { ownerAlive, processStartTime, withLockSync } from '../../../lib/lockfile.js';

/** Where the holders are recorded (tmpfs: a reboot restores the kernel defaults and forgets them). */
export const SYSCTL_HOLDERS = '/run/shoal/sysctl-holders';

/** What the node needs, in the order they are switched on, and the module that provides each. */
export const NODE_SYSCTLS: { name: string; value: string; module?: string }[] = [
  { name: 'net.bridge.bridge-nf-call-iptables', value: '1', module: 'br_netfilter' },
  { name: 'net.ipv4.ip_forward', value: '1' },
];

/** The seam to the kernel's sysctls (a fake in unit tests). */
export interface SysctlSeam {
  /** the current value; undefined when the kernel does not have it */
  read(name: string): string | undefined;
  write(name: string, value: string): void;
  /** loads a kernel module; false when it cannot */
  loadModule(name: string): boolean;
}

/** The real kernel: /proc/sys (lib/host's sysctls) and modprobe (lib/host's runner). */
export const realSysctls: SysctlSeam = {
  read: (name) => hostSysctls.readSysctl(name),
  write: (name, value) => hostSysctls.writeSysctl(name, value),
  loadModule: (name) => runSync('modprobe', [name]).code === 0,
};

/** What happened to one setting. */
export interface SysctlOutcome {
  name: string;
  /** the value found ('absent' when the kernel lacks it) */
  before: string;
  /** the value left ('absent' when still missing) */
  after: string;
  /** set: Shoal changed it now; restored: put back; kept: left as found (already right, or still held) */
  action: 'set' | 'already' | 'missing' | 'restored' | 'kept';
  /** kept: how many other live holders still need it (0: somebody else changed the value meanwhile) */
  holders?: number;
}

/** The originals file: name → value before Shoal changed it. */
const ORIGINALS = 'originals.json';
const LOCK = '.lock';

const holderFile = (dir: string, holder: string) => join(dir, `holder-${holder.replace(/[^A-Za-z0-9_.-]/g, '_')}`);

function readOriginals(dir: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(join(dir, ORIGINALS), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The holders whose process still runs (records of gone ones are removed). */
export function liveHolders(dir = SYSCTL_HOLDERS): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('holder-'));
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const n of names) {
    let rec: { pid?: number; start?: string } = {};
    try {
      rec = JSON.parse(readFileSync(join(dir, n), 'utf8')) as typeof rec;
    } catch {
      /* half-written or foreign: treated as gone */
    }
    if (rec.pid && ownerAlive(rec.pid, rec.start ?? '')) live.push(n.slice('holder-'.length));
    else rmSync(join(dir, n), { force: true });
  }
  return live;
}

/**
 * Records `holder` (its process: `pid`, default ours) and switches every setting on, recording the
 * original of each one it changes. Idempotent for one holder.
 */
export function holdSysctls(holder: string, seam: SysctlSeam = realSysctls, dir = SYSCTL_HOLDERS, pid = process.pid): SysctlOutcome[] {
  mkdirSync(dir, { recursive: true });
  return withLockSync(join(dir, LOCK), () => {
    writeAtomic(holderFile(dir, holder), `${JSON.stringify({ pid, start: processStartTime(pid) })}\n`);
    const originals = readOriginals(dir);
    const out: SysctlOutcome[] = [];
    for (const s of NODE_SYSCTLS) {
      let before = seam.read(s.name);
      let loaded = false;
      if (before === undefined && s.module) {
        loaded = seam.loadModule(s.module);
        before = seam.read(s.name);
      }
      if (before === undefined) {
        out.push({ name: s.name, before: 'absent', after: 'absent', action: 'missing' });
        continue;
      }
      if (before === s.value) {
        out.push({ name: s.name, before: loaded ? 'absent' : before, after: before, action: loaded ? 'set' : 'already' });
        // a module Shoal loaded comes up with the setting on: without it the kernel behaved as with 0
        if (loaded && !(s.name in originals)) originals[s.name] = '0';
        continue;
      }
      if (!(s.name in originals)) originals[s.name] = before;
      // write the original first: a crash between the two leaves a record, never an unrecorded change
      writeAtomic(join(dir, ORIGINALS), `${JSON.stringify(originals)}\n`);
      seam.write(s.name, s.value);
      out.push({ name: s.name, before, after: seam.read(s.name) ?? 'absent', action: 'set' });
    }
    writeAtomic(join(dir, ORIGINALS), `${JSON.stringify(originals)}\n`);
    return out;
  });
}

/**
 * Drops `holder`; when no live holder is left, restores every setting Shoal changed (in reverse order:
 * forwarding goes off first) unless somebody else changed it meanwhile. Otherwise reports them kept.
 */
export function releaseSysctls(holder: string, seam: SysctlSeam = realSysctls, dir = SYSCTL_HOLDERS): SysctlOutcome[] {
  if (!existsSync(dir)) return [];
  return withLockSync(join(dir, LOCK), () => {
    rmSync(holderFile(dir, holder), { force: true });
    const originals = readOriginals(dir);
    const others = liveHolders(dir);
    const out: SysctlOutcome[] = [];
    for (const s of [...NODE_SYSCTLS].reverse()) {
      if (!(s.name in originals)) continue;
      const now = seam.read(s.name) ?? 'absent';
      if (others.length) out.push({ name: s.name, before: now, after: now, action: 'kept', holders: others.length });
      else if (now !== s.value) out.push({ name: s.name, before: now, after: now, action: 'kept', holders: 0 }); // changed by someone else
      else {
        seam.write(s.name, originals[s.name]!);
        out.push({ name: s.name, before: now, after: seam.read(s.name) ?? 'absent', action: 'restored' });
      }
    }
    if (!others.length) rmSync(join(dir, ORIGINALS), { force: true });
    return out;
  });
}

/** One line for `shoal up`'s progress and `down`'s report. */
export function describeSysctls(outcomes: SysctlOutcome[]): string {
  return outcomes
    .map((o) => {
      if (o.action === 'set') return `${o.name} ${o.before} → ${o.after}`;
      if (o.action === 'already') return `${o.name} already ${o.after}`;
      if (o.action === 'missing') return `${o.name} not in this kernel (skipped)`;
      if (o.action === 'restored') return `${o.name} restored ${o.before} → ${o.after}`;
      return `${o.name} left at ${o.after} (${o.holders ? `${o.holders} other cluster${o.holders > 1 ? 's' : ''} on this host need${o.holders > 1 ? '' : 's'} it` : 'changed by someone else meanwhile'})`;
    })
    .join(', ');
}
