// Removing what a Shoal node made on the host, by name: the pod network namespaces (and the processes in
// them, which are the pods'), the bridge, the unreachable routes for the pod and service ranges, the
// cgroups, and the node's state. The node agent does this itself when it stops cleanly
// (--cleanup-on-exit); `shoal down` runs this as well, so a crash never leaves the host dirty.

import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runSync } from '../../lib/host/run.js';
import { releaseRoutes } from '../../node/agent/sandbox/routes.js';
import { describeSysctls, releaseSysctls } from '../../node/agent/sandbox/sysctls.js';

/** What one node made, named by its settings. */
export interface HostScope {
  netnsPrefix: string;
  bridge: string;
  cgroupName: string;
  routes: string[];
  /** who holds the routes (the node name): they go only when no other node on the host needs them */
  routeHolder?: string;
  /** who holds the host sysctls (node/agent/sandbox/sysctls.ts): restored when no other cluster needs them */
  sysctlHolder?: string;
  /** directories to remove (pod state, IPAM data, CNI cache) */
  dirs: string[];
  /** the service proxy's nftables table (family ip) and the label of its VIP addresses on lo */
  proxyTable?: string;
  proxyVipLabel?: string;
  /** the NetworkPolicy enforcer's table (family inet) */
  policyTable?: string;
}

/** lib/host's runSync with stdout and stderr together (for messages and `ip netns list`). */
function run(cmd: string, args: string[]): { code: number; out: string } {
  const r = runSync(cmd, args);
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

/** Remove cgroup directories named `name` under every hierarchy, deepest first. */
function removeCgroups(name: string): string[] {
  const errors: string[] = [];
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h));
  for (const root of roots) {
    const top = join(root, name);
    if (!existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        try {
          if (statSync(p).isDirectory()) walk(p);
        } catch {
          /* vanished */
        }
      }
      dirs.push(d);
    };
    walk(top);
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch (e) {
        errors.push(`rmdir ${d}: ${(e as Error).message}`);
      }
    }
  }
  return errors;
}

/** The nftables table that keeps pod egress on the machine (one per node bridge). */
export function guardTable(bridge: string): string {
  return `shoal-guard-${bridge}`;
}

/**
 * Without masquerade, pods may reach only the cluster's own ranges: forwarded packets from the node's
 * bridge to anything else are dropped, so nothing from a pod leaves the machine even when the host forwards
 * IP (the reference bridge plugin turns forwarding on). One table, replaced atomically.
 */
export function installEgressGuard(bridge: string, allowed: string[]): string | undefined {
  const t = guardTable(bridge);
  const script = [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    '  chain forward {',
    '    type filter hook forward priority -10; policy accept;',
    `    iifname "${bridge}" ip daddr != { ${allowed.join(', ')} } counter drop`,
    '  }',
    '}',
  ].join('\n');
  const r = runSync('nft', ['-f', '-'], { input: script });
  return r.code === 0 ? undefined : `nft: ${r.stderr.trim()}`;
}

/**
 * Remove everything in scope; returns the problems met (an empty list when the host is clean). `log` gets
 * what happened to the host settings.
 */
export function cleanupHost(s: HostScope, log: (line: string) => void = () => undefined): string[] {
  const errors: string[] = [];
  const list = run('ip', ['netns', 'list']);
  for (const line of list.out.split('\n')) {
    const ns = line.split(' ')[0];
    if (!ns || !ns.startsWith(s.netnsPrefix)) continue;
    const pids = run('ip', ['netns', 'pids', ns]).out.split('\n').filter((x) => /^\d+$/.test(x));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const d = run('ip', ['netns', 'del', ns]);
    if (d.code !== 0) errors.push(`ip netns del ${ns}: ${d.out.trim()}`);
  }
  if (run('ip', ['link', 'show', s.bridge]).code === 0) {
    const d = run('ip', ['link', 'del', s.bridge]);
    if (d.code !== 0) errors.push(`ip link del ${s.bridge}: ${d.out.trim()}`);
  }
  for (const r of s.routeHolder ? releaseRoutes(s.routeHolder, s.routes) : s.routes) run('ip', ['route', 'del', 'unreachable', r]);
  // forwarding goes back off (when this was the last cluster) before the guard goes, never after
  if (s.sysctlHolder) {
    try {
      const restored = releaseSysctls(s.sysctlHolder);
      if (restored.length) log(`host: ${describeSysctls(restored)}`);
    } catch (e) {
      errors.push(`host settings: ${(e as Error).message}`);
    }
  }
  run('nft', ['delete', 'table', 'inet', guardTable(s.bridge)]);
  if (s.proxyTable) run('nft', ['delete', 'table', 'ip', s.proxyTable]);
  if (s.policyTable) run('nft', ['delete', 'table', 'inet', s.policyTable]);
  if (s.proxyVipLabel) run('ip', ['-4', 'addr', 'flush', 'dev', 'lo', 'label', s.proxyVipLabel]);
  errors.push(...removeCgroups(s.cgroupName));
  for (const d of s.dirs) rmSync(d, { recursive: true, force: true });
  return errors;
}
