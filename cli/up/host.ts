// Host checks before `shoal up` starts pods: root, the commands and kernel parts the node agent and CNI
// need. Missing Debian packages are installed with apt-get when we are root and apt exists; otherwise the
// exact command is printed.

import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** A requirement: how to tell it is there, and the Debian package that brings it. */
interface Need {
  what: string;
  present: () => boolean;
  pkg: string;
}

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const NEEDS: Need[] = [
  { what: 'ip (iproute2)', present: () => onPath('ip'), pkg: 'iproute2' },
  { what: 'nsenter and unshare (util-linux)', present: () => onPath('nsenter') && onPath('unshare'), pkg: 'util-linux' },
  { what: 'nft (nftables)', present: () => onPath('nft'), pkg: 'nftables' },
  { what: 'iptables (for the reference portmap plugin)', present: () => onPath('iptables'), pkg: 'iptables' },
  { what: 'reference CNI plugins (/usr/lib/cni/portmap)', present: () => existsSync('/usr/lib/cni/portmap'), pkg: 'containernetworking-plugins' },
  { what: 'a C compiler for the CNI shim', present: () => onPath('cc'), pkg: 'gcc' },
];

/** The outcome of the checks. */
export interface HostReport {
  root: boolean;
  cgroups: boolean;
  missing: string[];
  installed: string[];
  /** set when something is missing and could not be installed */
  instruction?: string;
}

/** Check the host and install what is missing when possible. */
export function checkHost(log: (line: string) => void, install = true): HostReport {
  const root = process.getuid?.() === 0;
  const cgroups = existsSync('/sys/fs/cgroup');
  const missing = NEEDS.filter((n) => !n.present());
  const pkgs = [...new Set(missing.map((n) => n.pkg))];
  const report: HostReport = { root, cgroups, missing: missing.map((n) => n.what), installed: [] };
  if (!pkgs.length) return report;
  const cmd = `apt-get install -y ${pkgs.join(' ')}`;
  if (root && install && onPath('apt-get')) {
    log(`  … installing ${pkgs.join(', ')} (${cmd})`);
    const upd = spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const r = upd.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }) : upd;
    const still = NEEDS.filter((n) => !n.present());
    if (r.status === 0 && !still.length) {
      report.installed = pkgs;
      report.missing = [];
      return report;
    }
  }
  report.instruction = `${root ? '' : 'sudo '}${cmd}`;
  return report;
}
