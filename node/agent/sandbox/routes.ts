// Host routes the agent owns (DESIGN.md "Networks"): `unreachable` routes for the service CIDR and the
// cluster's pod ranges this node does not serve, so packets to them fail at once instead of leaving
// the machine. The node's own pod /24 is more specific (the CNI bridge route), so it still works.

import type { Os } from '../os.js';

/** The unreachable routes to install. */
export function unreachableCidrs(serviceCidr: string, clusterCidr: string, podCidr: string): string[] {
  return [...new Set([serviceCidr, clusterCidr].filter((c) => c && c !== podCidr))];
}

/** Installs the routes (idempotent: `ip route replace`). */
export async function addUnreachable(os: Os, cidrs: string[]): Promise<void> {
  for (const c of cidrs) {
    const r = await os.run('ip', ['route', 'replace', 'unreachable', c]);
    if (r.code !== 0) throw new Error(`ip route replace unreachable ${c}: ${r.stderr.trim()}`);
  }
}

/** Removes them (for `shoal down` and tests). */
export async function removeUnreachable(os: Os, cidrs: string[]): Promise<void> {
  for (const c of cidrs) await os.run('ip', ['route', 'del', 'unreachable', c]);
}
