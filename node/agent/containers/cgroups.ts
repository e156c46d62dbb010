// resources.limits through cgroups: v2 where the unified hierarchy is mounted at the root, v1 otherwise
// (memory and cpu controllers). Layout: <root>/<name>/pod<uid>/<container> (v1: under memory/ and cpu/).
// A container joins its cgroups itself before exec (the runner's wrapper writes $$ to cgroup.procs), so
// no process ever runs unlimited. Limits: memory → memory.max | memory.limit_in_bytes; cpu →
// cpu.max "<quota> 100000" | cpu.cfs_quota_us with a 100 ms period.

import { readFileSync, existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { milliValue, parseQuantity } from '../../../api/quantity.js';
import type { ContainerSpec } from '../pods/types.js';
import { readUsage, type CgroupUsage } from './stats.js';

/** Limits in the units the kernel takes. */
export interface Limits {
  memoryBytes?: number;
  cpuMilli?: number;
}

/** A container's limits from its spec. */
export function limitsOf(c: ContainerSpec): Limits {
  const l = c.resources?.limits ?? {};
  const out: Limits = {};
  if (l.memory !== undefined) out.memoryBytes = Math.floor(parseQuantity(l.memory));
  if (l.cpu !== undefined) out.cpuMilli = milliValue(l.cpu);
  return out;
}

/** The cgroup seam. */
export interface Cgroups {
  /** creates the container's cgroups with its limits; returns the cgroup.procs files it must join */
  setup(podUid: string, container: string, limits: Limits): string[];
  /** removes every cgroup of the pod (after its processes are gone); returns what it could not remove */
  removePod(podUid: string): string[];
  /** where the memory limit of a container is written (tests read it) */
  memoryLimitFile(podUid: string, container: string): string | undefined;
  /**
   * SIGKILL every process left in the container's cgroup. When a container's main process dies, what it
   * started (or the app behind the nsenter wrapper) must not outlive it: a restart would find the port
   * still taken. Returns how many processes it signalled.
   */
  killContainer(podUid: string, container: string): number;
  /** the container's cumulative CPU and memory working set, read from its cgroups (stats.ts); undefined when none */
  usage?(podUid: string, container: string): CgroupUsage | undefined;
}

/** The cgroup version mounted at `root`. */
export function cgroupVersion(root: string): 1 | 2 | 0 {
  if (existsSync(join(root, 'cgroup.controllers'))) return 2;
  if (existsSync(join(root, 'memory')) || existsSync(join(root, 'cpu'))) return 1;
  return 0;
}

const PERIOD = 100_000;

/** The kernel's cgroup filesystem. `name` is the top directory (`shoal`, or a test prefix). */
export class HostCgroups implements Cgroups {
  readonly version: 1 | 2 | 0;

  constructor(private readonly root = '/sys/fs/cgroup', private readonly name = 'shoal') {
    this.version = cgroupVersion(root);
  }

  private dirs(podUid: string, container?: string): { ctl: string; dir: string }[] {
    const rel = (base: string) => join(base, this.name, `pod${podUid}`, ...(container ? [container] : []));
    if (this.version === 2) return [{ ctl: 'unified', dir: rel(this.root) }];
    // cpuacct joins the list for usage accounting (its own hierarchy on hosts that mount it apart from cpu)
    if (this.version === 1) return ['memory', 'cpu', 'cpuacct'].filter((c) => existsSync(join(this.root, c))).map((ctl) => ({ ctl, dir: rel(join(this.root, ctl)) }));
    return [];
  }

  usage(podUid: string, container: string): CgroupUsage | undefined {
    return readUsage(this.version, this.dirs(podUid, container));
  }

  memoryLimitFile(podUid: string, container: string): string | undefined {
    const d = this.dirs(podUid, container).find((x) => x.ctl === 'memory' || x.ctl === 'unified');
    if (!d) return undefined;
    return join(d.dir, this.version === 2 ? 'memory.max' : 'memory.limit_in_bytes');
  }

  setup(podUid: string, container: string, limits: Limits): string[] {
    if (this.version === 2) this.enableV2Controllers(podUid);
    const procs: string[] = [];
    for (const { ctl, dir } of this.dirs(podUid, container)) {
      mkdirSync(dir, { recursive: true });
      if (this.version === 2) {
        if (limits.memoryBytes !== undefined) writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
        if (limits.cpuMilli !== undefined) writeFileSync(join(dir, 'cpu.max'), `${Math.max(1000, Math.round((limits.cpuMilli * PERIOD) / 1000))} ${PERIOD}`);
      } else if (ctl === 'memory' && limits.memoryBytes !== undefined) {
        writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      } else if (ctl === 'cpu' && limits.cpuMilli !== undefined) {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round((limits.cpuMilli * PERIOD) / 1000))));
      }
      procs.push(join(dir, 'cgroup.procs'));
    }
    return procs;
  }

  private enableV2Controllers(podUid: string): void {
    const top = join(this.root, this.name);
    const pod = join(top, `pod${podUid}`);
    mkdirSync(pod, { recursive: true });
    for (const d of [this.root, top, pod]) {
      try {
        writeFileSync(join(d, 'cgroup.subtree_control'), '+memory +cpu');
      } catch {
        /* controller unavailable or busy: limits are best effort on v2 without delegation */
      }
    }
  }

  killContainer(podUid: string, container: string): number {
    let n = 0;
    for (const { dir } of this.dirs(podUid, container)) {
      if (this.version === 2 && existsSync(join(dir, 'cgroup.kill'))) {
        writeFileSync(join(dir, 'cgroup.kill'), '1');
        n++;
        continue;
      }
      const procs = join(dir, 'cgroup.procs');
      if (!existsSync(procs)) continue;
      for (const pid of readFileSync(procs, 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
          n++;
        } catch {
          /* already gone */
        }
      }
    }
    return n;
  }

  removePod(podUid: string): string[] {
    const left: string[] = [];
    for (const { dir } of this.dirs(podUid)) {
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        try {
          rmdirSync(join(dir, e.name));
        } catch {
          left.push(join(dir, e.name));
        }
      }
      try {
        rmdirSync(dir);
      } catch {
        left.push(dir);
      }
    }
    return left;
  }
}

/** No cgroups (no controller mounted, or unit tests). */
export const noCgroups: Cgroups = { setup: () => [], removePod: () => [], memoryLimitFile: () => undefined, killContainer: () => 0 };
