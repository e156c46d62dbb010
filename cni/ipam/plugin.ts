// shoal-ipam: the IPAM plugin's command table. ADD allocates (see allocator.ts) and returns ips,
// routes and dns (from resolvConf); DEL releases everything held by (containerID, ifname) and is
// idempotent; CHECK verifies the allocation exists; STATUS answers 50 when a range set is full;
// GC frees every allocation not listed in cni.dev/valid-attachments (or the older cni.dev/attachments).

import { readFileSync } from 'node:fs';
import type { CmdArgs, PluginTable } from '../skel/skel.js';
import { CniCode, CniError } from '../spec/errors.js';
import type { Attachment, DNS, Result } from '../spec/types.js';
import { currentVersion, supportedVersions } from '../spec/version.js';
import { allocate, exhaustedSet } from './allocator.js';
import { parseIpamConfig, requestedIPs } from './config.js';
import { DiskStore, type IpamStore } from './store.js';

/** Opens the store for a network's directory (the seam tests replace). */
export type StoreFactory = (dir: string) => IpamStore;

/** Parses a resolv.conf into CNI DNS settings. */
export function parseResolvConf(text: string): DNS {
  const dns: DNS = {};
  for (const line of text.split('\n')) {
    const [key, ...vals] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (!vals.length) continue;
    if (key === 'nameserver') (dns.nameservers ??= []).push(vals[0]);
    else if (key === 'domain') dns.domain = vals[0];
    else if (key === 'search') dns.search = vals;
    else if (key === 'options') (dns.options ??= []).push(...vals);
  }
  return dns;
}

function attachmentsOf(a: CmdArgs): Attachment[] {
  const list = a.conf['cni.dev/valid-attachments'] ?? a.conf['cni.dev/attachments'];
  if (!Array.isArray(list)) {
    throw new CniError(CniCode.InvalidNetworkConfig, 'cni.dev/valid-attachments: Required value: GC needs the list of valid attachments');
  }
  return list;
}

/** Builds the shoal-ipam table over a store factory (DiskStore by default). */
export function makeIpamPlugin(open: StoreFactory = (d) => new DiskStore(d)): PluginTable {
  const stores = new Map<string, IpamStore>();
  const storeFor = (dir: string): IpamStore => {
    let s = stores.get(dir);
    if (!s) stores.set(dir, (s = open(dir)));
    return s;
  };
  return {
    name: 'shoal-ipam',
    supportedVersions,
    async add(a) {
      const cfg = parseIpamConfig(a.conf);
      const { ips: want } = requestedIPs(a.conf, a.args);
      let dns: DNS | undefined;
      if (cfg.resolvConf) {
        try {
          dns = parseResolvConf(readFileSync(cfg.resolvConf, 'utf8'));
        } catch (e) {
          throw new CniError(CniCode.InvalidNetworkConfig, `ipam.resolvConf: cannot read ${cfg.resolvConf}: ${(e as Error).message}`);
        }
      }
      const store = storeFor(cfg.dir);
      const ips = await store.lock(() => allocate(store, cfg, a.containerID, a.ifName, want));
      const res: Result = { cniVersion: currentVersion, ips, routes: cfg.routes };
      if (dns) res.dns = dns;
      return res;
    },
    async del(a) {
      const cfg = parseIpamConfig(a.conf);
      const store = storeFor(cfg.dir);
      await store.lock(() => store.releaseByID(a.containerID, a.ifName));
    },
    async check(a) {
      const cfg = parseIpamConfig(a.conf);
      const store = storeFor(cfg.dir);
      const held = await store.lock(() => store.list().filter((x) => x.id === a.containerID && x.ifname === a.ifName));
      if (held.length === 0) throw new CniError(CniCode.Generic, `ipam: no address is allocated to container ${a.containerID} interface ${a.ifName}`);
    },
    async status(a) {
      const cfg = parseIpamConfig(a.conf);
      const store = storeFor(cfg.dir);
      const full = await store.lock(() => exhaustedSet(store, cfg));
      if (full) throw new CniError(CniCode.NotAvailable, `ipam: range set ${full} is exhausted; ADD would fail`);
    },
    async gc(a) {
      const cfg = parseIpamConfig(a.conf);
      const valid = new Set(attachmentsOf(a).map((x) => `${x.containerID}\n${x.ifname}`));
      const store = storeFor(cfg.dir);
      await store.lock(() => {
        for (const x of store.list()) if (!valid.has(`${x.id}\n${x.ifname}`)) store.release(x.ip);
      });
    },
  };
}

/** The plugin over the real data directory. */
export const ipamPlugin: PluginTable = makeIpamPlugin();
