// Resource usage read from a container's cgroups, as kubelet (through cAdvisor) computes it:
//   CPU: cumulative nanoseconds — v1 `cpuacct.usage`, v2 `cpu.stat` usage_usec × 1000;
//   memory working set: usage minus inactive file pages, floored at 0 — v1 `memory.usage_in_bytes` −
//   `memory.stat` total_inactive_file, v2 `memory.current` − `memory.stat` inactive_file.
// The node's own figures come from /proc/stat (non-idle jiffies) and /proc/meminfo (MemTotal −
// MemAvailable), which is what the root cgroup amounts to on a machine whose root cgroup we do not own.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One sample of a cgroup's usage. */
export interface CgroupUsage {
  /** cumulative CPU time in nanoseconds */
  cpuNs?: number;
  /** working set in bytes */
  memoryWorkingSetBytes?: number;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.stat, cpu.stat) as a map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

/** Working set from usage and memory.stat text (v1 `total_inactive_file`, v2 `inactive_file`). */
export function workingSet(usage: number, statText: string | undefined): number {
  const st = statText ? parseFlatKeyed(statText) : new Map<string, number>();
  const inactive = st.get('total_inactive_file') ?? st.get('inactive_file') ?? 0;
  return Math.max(0, usage - inactive);
}

/** Reads the usage from a container's cgroup dirs (as HostCgroups lays them out). */
export function readUsage(version: 1 | 2 | 0, dirs: { ctl: string; dir: string }[]): CgroupUsage | undefined {
  const out: CgroupUsage = {};
  for (const { ctl, dir } of dirs) {
    if (version === 2) {
      const stat = read(join(dir, 'cpu.stat'));
      const usec = stat ? parseFlatKeyed(stat).get('usage_usec') : undefined;
      if (usec !== undefined) out.cpuNs = usec * 1000;
      const cur = read(join(dir, 'memory.current'));
      if (cur !== undefined && /^\d+/.test(cur.trim())) out.memoryWorkingSetBytes = workingSet(Number(cur.trim()), read(join(dir, 'memory.stat')));
    } else if (ctl === 'cpuacct') {
      const u = read(join(dir, 'cpuacct.usage'));
      if (u !== undefined && /^\d+/.test(u.trim())) out.cpuNs = Number(u.trim());
    } else if (ctl === 'memory') {
      const u = read(join(dir, 'memory.usage_in_bytes'));
      if (u !== undefined && /^\d+/.test(u.trim())) out.memoryWorkingSetBytes = workingSet(Number(u.trim()), read(join(dir, 'memory.stat')));
    }
  }
  return out.cpuNs === undefined && out.memoryWorkingSetBytes === undefined ? undefined : out;
}

/** The node's cumulative CPU (non-idle time over all CPUs, from /proc/stat) and memory in use. */
export function nodeUsage(procStat = read('/proc/stat'), meminfo = read('/proc/meminfo'), userHz = 100): CgroupUsage {
  const out: CgroupUsage = {};
  const cpu = procStat?.split('\n').find((l) => l.startsWith('cpu '));
  if (cpu) {
    // user nice system idle iowait irq softirq steal (guest is counted in user already)
    const f = cpu.trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0);
    out.cpuNs = Math.round((busy * 1e9) / userHz);
  }
  if (meminfo) {
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? NaN);
    const ws = kb('MemTotal') - kb('MemAvailable');
    if (Number.isFinite(ws)) out.memoryWorkingSetBytes = ws * 1024;
  }
  return out;
}
