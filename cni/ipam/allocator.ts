// The allocator: picks one address per range set, round-robin like host-local (resume after the
// last reserved address, wrap around, skip the gateway and taken addresses), honours requested
// addresses, and hands a container that already holds an address the same one again.
// Runs under the store's lock; it only reads and writes through the IpamStore seam.

import { CniCode, CniError } from '../spec/errors.js';
import { type IP, addIP, contains, formatIP, ipEqual, parseIP } from '../../lib/net/ip.js';
import type { IPConfig } from '../spec/types.js';
import type { IpamConfig, Range, RangeSet } from './config.js';
import type { IpamStore } from './store.js';

function inRange(r: Range, ip: IP): boolean {
  return contains(r.subnet, ip) && ip.value >= r.start.value && ip.value <= r.end.value;
}

function rangeOf(set: RangeSet, ip: IP): Range | undefined {
  return set.find((r) => inRange(r, ip));
}

function describe(set: RangeSet): string {
  return set.map((r) => `${formatIP(r.start)}-${formatIP(r.end)}`).join(',');
}

function ipConfig(r: Range, ip: IP): IPConfig {
  return { address: `${formatIP(ip)}/${r.subnet.prefix}`, ...(r.gateway ? { gateway: formatIP(r.gateway) } : {}) };
}

/** Walks a range set round-robin from after `last`; yields each candidate once. */
function* candidates(set: RangeSet, last: IP | undefined): Generator<{ r: Range; ip: IP }> {
  let ri = 0;
  let next = set[0].start;
  const lr = last ? set.findIndex((r) => inRange(r, last)) : -1;
  if (last && lr >= 0) {
    ri = lr;
    next = addIP(last, 1n);
    if (next.value > set[ri].end.value) {
      ri = (ri + 1) % set.length;
      next = set[ri].start;
    }
  }
  const first = { ri, ip: next };
  for (;;) {
    yield { r: set[ri], ip: next };
    next = addIP(next, 1n);
    if (next.value > set[ri].end.value) {
      ri = (ri + 1) % set.length;
      next = set[ri].start;
    }
    if (ri === first.ri && ipEqual(next, first.ip)) return;
  }
}

function freeIn(store: IpamStore, set: RangeSet, last: IP | undefined): { r: Range; ip: IP } | undefined {
  for (const c of candidates(set, last)) {
    if (c.r.gateway && ipEqual(c.r.gateway, c.ip)) continue;
    if (!store.isReserved(formatIP(c.ip))) return c;
  }
  return undefined;
}

/** Allocates one address per range set for (id, ifname); undoes partial work on failure. */
export function allocate(store: IpamStore, cfg: IpamConfig, id: string, ifname: string, requested: IP[]): IPConfig[] {
  const unmatched = requested.filter((ip) => !cfg.rangeSets.some((s) => rangeOf(s, ip)));
  if (unmatched.length) {
    throw new CniError(CniCode.InvalidNetworkConfig, `ips: requested address ${formatIP(unmatched[0])} is not in any configured range`);
  }
  const held = store.list().filter((a) => a.id === id && a.ifname === ifname);
  const taken: string[] = [];
  try {
    return cfg.rangeSets.map((set, i) => {
      const want = requested.find((ip) => rangeOf(set, ip));
      const mine = held.map((a) => parseIP(a.ip)).find((ip): ip is IP => !!ip && !!rangeOf(set, ip));
      if (mine && (!want || ipEqual(want, mine))) return ipConfig(rangeOf(set, mine)!, mine);
      if (want) {
        const r = rangeOf(set, want)!;
        if ((r.gateway && ipEqual(r.gateway, want)) || !store.reserve(formatIP(want), id, ifname, i)) {
          throw new CniError(CniCode.InvalidNetworkConfig, `ips: requested address ${formatIP(want)} is not available in range set ${describe(set)}`);
        }
        taken.push(formatIP(want));
        return ipConfig(r, want);
      }
      const lastText = store.lastReserved(i);
      for (;;) {
        const c = freeIn(store, set, lastText ? parseIP(lastText) : undefined);
        if (!c) throw new CniError(CniCode.NotAvailable, `ipam: no IP addresses available in range set ${describe(set)}`);
        if (store.reserve(formatIP(c.ip), id, ifname, i)) {
          taken.push(formatIP(c.ip));
          return ipConfig(c.r, c.ip);
        }
      }
    });
  } catch (e) {
    for (const ip of taken) store.release(ip);
    throw e;
  }
}

/** The first range set with no free address, or undefined when ADD could get one from each. */
export function exhaustedSet(store: IpamStore, cfg: IpamConfig): string | undefined {
  for (const set of cfg.rangeSets) if (!freeIn(store, set, undefined)) return describe(set);
  return undefined;
}
