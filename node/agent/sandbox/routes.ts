// Host routes the agent owns (DESIGN.md "Networks"): `unreachable` routes for the service CIDR and the
// cluster's pod ranges this node does not serve, so packets to them fail at once instead of leaving
// the machine. The node's own pod /24 is more specific (the CNI bridge route), so it still works.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATHS } from '../../../lib/defaults/defaults.js';
import type { Os } from '../os.js';

/**
 * Several nodes (side-by-side clusters, parallel tests) share the same ranges, so the routes are held:
 * one file per holder (its node name) listing the CIDRs it needs, in a tmpfs dir. A route is removed only
 * when no holder is left that needs it; a holder that crashed keeps its routes in place (the safe side)
 * until `shoal down` releases it by name.
 */
export const ROUTE_HOLDERS: string = PATHS.routeHolders;

const holderFile = (dir: string, holder: string) => join(dir, holder.replace(/[^A-Za-z0-9_.-]/g, '_'));

/** Records that `holder` needs `cidrs`; false when the record cannot be written (then nothing is shared). */
export function holdRoutes(holder: string, cidrs: string[], dir = ROUTE_HOLDERS): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(holderFile(dir, holder), `${JSON.stringify(cidrs)}\n`);
    return true;
  } catch {
    return false;
  }
}

/** Drops `holder`'s record; returns those of `cidrs` that no other holder still needs (safe to remove). */
export function releaseRoutes(holder: string, cidrs: string[], dir = ROUTE_HOLDERS): string[] {
  rmSync(holderFile(dir, holder), { force: true });
  const held = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return cidrs;
  }
  for (const n of names) {
    try {
      for (const c of JSON.parse(readFileSync(join(dir, n), 'utf8')) as string[]) held.add(c);
    } catch {
      /* a half-written or foreign file: ignore */
    }
  }
  return cidrs.filter((c) => !held.has(c));
}

/** The unreachable routes to install. */
export function unreachableCidrs(serviceCidr: string, clusterCidr: string, podCidr: string): string[] {
  return [...new Set([serviceCidr, clusterCidr].filter((c) => c && c !== podCidr))];
}

/** Installs the routes (idempotent: `ip route replace`), held by `holder` when given. */
export async function addUnreachable(os: Os, cidrs: string[], holder?: string): Promise<void> {
  if (holder) holdRoutes(holder, cidrs);
  for (const c of cidrs) {
    const r = await os.run('ip', ['route', 'replace', 'unreachable', c]);
    if (r.code !== 0) throw new Error(`ip route replace unreachable ${c}: ${r.stderr.trim()}`);
  }
}

/** Removes them (for `shoal down` and tests), except those another holder still needs. */
export async function removeUnreachable(os: Os, cidrs: string[], holder?: string): Promise<void> {
  for (const c of holder ? releaseRoutes(holder, cidrs) : cidrs) await os.run('ip', ['route', 'del', 'unreachable', c]);
}
