// shoal-bridge: the command table of the bridge plugin.
//
//   ADD   config → ensure bridge → host batch: veth pair with the container end created directly in
//         CNI_NETNS as CNI_IFNAME, host end on the bridge (+hairpin) → IPAM ADD (delegated) → host
//         batch (gateway address) ∥ netns batch (addresses, link up, routes) → ipMasq → result.
//         The interface comes before IPAM, as in the reference bridge: an ADD for an interface that
//         exists fails before it holds anything. Each step that changed something pushes its undo; a
//         failure runs only those undos, in reverse.
//   DEL   IPAM DEL, delete the container interface (which removes the pair), drop masq elements;
//         a missing netns or link is fine; every error met is reported together.
//   CHECK compares the interface, its addresses and routes with prevResult.
//   STATUS / GC are delegated to the IPAM plugin.

import { Invoker } from '../invoke/invoke.js';
import type { CmdArgs, PluginTable } from '../skel/skel.js';
import { CniCode, CniError, asCniError } from '../spec/errors.js';
import { type CIDR, formatCIDR, formatIP, maskCIDR, parseCIDR, parseIP } from '../../lib/net/ip.js';
import type { Interface, Result, Route } from '../spec/types.js';
import { currentVersion, parseResult, supportedVersions } from '../spec/version.js';
import { type BridgeConfig, parseBridgeConfig } from './config.js';
import { type Kernel, KernelError } from './kernel.js';
import { masqAddScript, masqDelScripts } from './masq.js';

/** What the bridge plugin depends on. */
export interface BridgeDeps {
  kernel: Kernel;
  invoker: Invoker;
}

// Names and MACs need uniqueness, not secrecy: Math.random avoids loading node:crypto (~6 ms of
// start-up in the standalone plugin).
function randomHex(bytes: number): string[] {
  return Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0'));
}

/** A random unicast, locally administered MAC address. */
export function randomMac(): string {
  const b = randomHex(6);
  b[0] = ((parseInt(b[0], 16) & 0xfe) | 0x02).toString(16).padStart(2, '0');
  return b.join(':');
}

const notFound = /Cannot find device|No such device|does not exist/;

/** Ensures the bridge exists (with a fixed MAC, so it keeps one as ports come and go). */
async function ensureBridge(k: Kernel, cfg: BridgeConfig): Promise<string> {
  let link = k.hostLink(cfg.bridge);
  if (!link) {
    const lines = [`link add ${cfg.bridge}${cfg.mtu ? ` mtu ${cfg.mtu}` : ''} address ${randomMac()} type bridge`];
    try {
      await k.ipBatch(lines);
    } catch (e) {
      if (!(e instanceof KernelError && /File exists/.test(e.stderr))) throw e; // created concurrently
    }
    link = k.hostLink(cfg.bridge);
  } else if (!link.isBridge) {
    throw new CniError(CniCode.InvalidNetworkConfig, `bridge: Invalid value: "${cfg.bridge}": a link of that name exists and is not a bridge`);
  }
  return link?.mac ?? '';
}

const checkedGateways = new Set<string>();

/** With forceAddress (or once per bridge and subnet), removes other addresses of the gateway's subnet. */
async function conflictingGatewayAddrs(k: Kernel, cfg: BridgeConfig, gw: CIDR): Promise<string[]> {
  const key = `${cfg.bridge} ${formatCIDR(gw)}`;
  if (checkedGateways.has(key) && !cfg.forceAddress) return [];
  const links = await k.ipJson(['addr', 'show', 'dev', cfg.bridge]);
  const subnet = formatCIDR(maskCIDR(gw));
  const others = (links[0]?.addr_info ?? [])
    .map((a: any) => parseCIDR(`${a.local}/${a.prefixlen}`))
    .filter((c: CIDR | undefined): c is CIDR => !!c && formatCIDR(maskCIDR(c)) === subnet && formatCIDR(c) !== formatCIDR(gw));
  if (others.length && !cfg.forceAddress) {
    throw new CniError(
      CniCode.InvalidNetworkConfig,
      `bridge: "${cfg.bridge}" already has address ${formatCIDR(others[0])} in the gateway's subnet; set forceAddress to replace it`,
    );
  }
  checkedGateways.add(key);
  return others.map((c: CIDR) => `addr del ${formatCIDR(c)} dev ${cfg.bridge}`);
}

/** Builds the shoal-bridge table over its kernel and invoker seams. */
export function makeBridgePlugin(deps: BridgeDeps): PluginTable {
  const k = deps.kernel;
  const ipam = (a: CmdArgs, cfg: BridgeConfig, cmd: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC') =>
    deps.invoker.run(cfg.ipamType, cmd, a.stdin, a.env, 'ipam.type');

  async function add(a: CmdArgs): Promise<Result> {
    const cfg = parseBridgeConfig(a.conf, a.args);
    if (!k.netnsExists(a.netns)) throw new CniError(CniCode.UnknownContainer, `CNI_NETNS: network namespace ${a.netns} does not exist`);
    deps.invoker.assertFound(cfg.ipamType, a.env, 'ipam.type');
    const undo: (() => Promise<unknown>)[] = [];
    try {
      // The interface first, as the reference bridge does (setupVeth before ipam.ExecAdd): a second ADD
      // for an existing container interface fails before IPAM is asked, so its rollback cannot release the
      // address the first ADD holds (IPAM hands an existing holder its address again).
      const bridgeMac = await ensureBridge(k, cfg);
      const hostName = `veth${randomHex(4).join('')}`;
      const hostMac = randomMac();
      const mac = cfg.mac ?? randomMac();
      const mtu = cfg.mtu ? ` mtu ${cfg.mtu}` : '';
      const host = [
        `link set ${cfg.bridge}${cfg.promiscMode ? ' promisc on' : ''} up`,
        `link add ${hostName}${mtu} address ${hostMac} type veth peer name ${a.ifName}${mtu} address ${mac} netns ${a.netns}`,
        `link set ${hostName} master ${cfg.bridge} up`,
      ];
      if (cfg.hairpinMode) host.push(`link set ${hostName} type bridge_slave hairpin on`);
      // One batch; `ip` stops at the first failing line, so the line number says what exists.
      try {
        await k.ipBatch(host);
      } catch (e) {
        const line = e instanceof KernelError ? e.line : -1;
        if (line < 0 || line > 1) undo.push(() => k.ipBatch([`link del ${hostName}`]));
        if (line === 1 && e instanceof KernelError && /File exists/.test(e.stderr)) {
          throw new CniError(CniCode.Generic, `CNI_IFNAME: interface ${a.ifName} already exists in ${a.netns}`);
        }
        throw e;
      }
      undo.push(() => k.ipBatch([`link del ${hostName}`]));

      const ipamRes = parseResult(await ipam(a, cfg, 'ADD'), 'ipam result');
      undo.push(() => ipam(a, cfg, 'DEL'));
      if (!ipamRes.ips?.length) throw new CniError(CniCode.InvalidNetworkConfig, `ipam.type: IPAM plugin ${cfg.ipamType} returned no IP addresses`);
      const gatewayLines: string[] = [];
      if (cfg.isGateway) {
        const gateways: CIDR[] = [];
        for (const ip of ipamRes.ips) {
          const c = parseCIDR(ip.address)!;
          const gw = ip.gateway ? parseIP(ip.gateway) : undefined;
          if (gw) gateways.push({ ip: gw, prefix: c.prefix });
        }
        for (const gw of gateways) gatewayLines.push(...(await conflictingGatewayAddrs(k, cfg, gw)), `addr replace ${formatCIDR(gw)} dev ${cfg.bridge}`);
      }

      const routes: Route[] = [];
      const inside = [`link set ${a.ifName} up`];
      for (const ip of ipamRes.ips) {
        const fam = parseCIDR(ip.address)!.ip.family;
        inside.push(`addr add ${ip.address} dev ${a.ifName}${fam === 6 ? ' nodad' : ''}`);
      }
      if (cfg.isDefaultGateway) {
        for (const ip of ipamRes.ips) {
          if (!ip.gateway) continue;
          const dst = parseIP(ip.gateway)!.family === 4 ? '0.0.0.0/0' : '::/0';
          if (!routes.some((r) => r.dst === dst)) routes.push({ dst, gw: ip.gateway });
        }
      }
      for (const r of ipamRes.routes ?? []) {
        const fam = parseCIDR(r.dst)?.ip.family;
        const gw = r.gw ?? ipamRes.ips.find((ip) => ip.gateway && parseIP(ip.gateway)?.family === fam)?.gateway;
        if (routes.some((x) => x.dst === r.dst)) continue;
        routes.push(gw ? { ...r, gw } : { ...r });
      }
      for (const r of routes) inside.push(`route add ${r.dst}${r.gw ? ` via ${r.gw}` : ''} dev ${a.ifName}`);
      // the gateway on the bridge and the pod's side are independent: one ip process each, together
      const results = await Promise.allSettled([k.ipBatch(gatewayLines), k.ipBatch(inside, a.netns)]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;

      if (cfg.ipMasq) {
        const addrs = ipamRes.ips.map((ip) => ip.address);
        await k.nft(masqAddScript(a.conf.name, a.containerID, a.ifName, addrs));
        undo.push(() => Promise.all(masqDelScripts(a.conf.name, addrs).map((s) => k.nft(s).catch(() => undefined))));
      }
      const interfaces: Interface[] = [
        { name: cfg.bridge, mac: bridgeMac },
        { name: hostName, mac: hostMac },
        { name: a.ifName, mac, sandbox: a.netns },
      ];
      if (cfg.mtu) for (const i of interfaces) i.mtu = cfg.mtu;
      const rc = a.conf.runtimeConfig?.dns as Result['dns'] | undefined;
      const dns = rc && Object.keys(rc).length ? rc : a.conf.dns && Object.keys(a.conf.dns).length ? a.conf.dns : ipamRes.dns;
      return {
        cniVersion: currentVersion,
        interfaces,
        ips: ipamRes.ips.map((ip) => ({ ...ip, interface: 2 })),
        routes,
        ...(dns ? { dns } : {}),
      };
    } catch (e) {
      const failures: string[] = [];
      for (const u of undo.reverse()) {
        try {
          await u();
        } catch (ue) {
          failures.push(asCniError(ue).message);
        }
      }
      const err = asCniError(e);
      if (failures.length) a.log(`ADD failed (${err.message}); cleanup also failed: ${failures.join('; ')}`);
      throw err;
    }
  }

  async function del(a: CmdArgs): Promise<void> {
    const cfg = parseBridgeConfig(a.conf, a.args);
    const errors: CniError[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        errors.push(asCniError(e, what));
      }
    };
    let addrs: string[] = (a.prevResult?.ips ?? []).map((ip) => ip.address);
    const unwire = async () => {
      if (!a.netns || !k.netnsExists(a.netns)) return;
      if (cfg.ipMasq && !addrs.length) {
        await attempt('read addresses', async () => {
          const l = await k.ipJson(['addr', 'show', 'dev', a.ifName], a.netns).catch((e) => {
            if (e instanceof KernelError && notFound.test(e.stderr)) return [];
            throw e;
          });
          addrs = (l[0]?.addr_info ?? []).filter((x: any) => x.scope === 'global').map((x: any) => `${x.local}/${x.prefixlen}`);
        });
      }
      await attempt('delete interface', async () => {
        try {
          await k.ipBatch([`link del ${a.ifName}`], a.netns);
        } catch (e) {
          if (!(e instanceof KernelError && notFound.test(e.stderr))) throw e;
        }
      });
    };
    // IPAM release and the (slow, kernel-bound) veth removal are independent: run them together.
    await Promise.all([attempt('ipam DEL', () => ipam(a, cfg, 'DEL')), unwire()]);
    if (cfg.ipMasq) {
      for (const s of masqDelScripts(a.conf.name, addrs)) {
        await attempt('ipMasq', async () => {
          try {
            await k.nft(s);
          } catch (e) {
            if (!(e instanceof KernelError && /No such file|does not exist/.test(e.stderr))) throw e;
          }
        });
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new CniError(errors[0].code, errors.map((e) => e.message).join('; '), errors.map((e) => `${e.code}: ${e.message}`).join('\n'));
    }
  }

  async function check(a: CmdArgs): Promise<void> {
    const cfg = parseBridgeConfig(a.conf, a.args);
    const prev = a.prevResult;
    if (!prev) throw new CniError(CniCode.InvalidNetworkConfig, 'prevResult: Required value: CHECK needs the result of ADD');
    await ipam(a, cfg, 'CHECK');
    if (!k.netnsExists(a.netns)) throw new CniError(CniCode.UnknownContainer, `CNI_NETNS: network namespace ${a.netns} does not exist`);
    const idx = (prev.interfaces ?? []).findIndex((i) => i.name === a.ifName && i.sandbox === a.netns);
    if (idx < 0) throw new CniError(CniCode.Generic, `prevResult.interfaces: no interface ${a.ifName} in sandbox ${a.netns}`);
    const want = prev.interfaces![idx];
    const links = await k.ipJson(['addr', 'show', 'dev', a.ifName], a.netns).catch((e) => {
      throw new CniError(CniCode.Generic, `interface ${a.ifName} in ${a.netns}: ${asCniError(e).message}`);
    });
    const link = links[0];
    if (!link) throw new CniError(CniCode.Generic, `interface ${a.ifName} not found in ${a.netns}`);
    if (want.mac && link.address?.toLowerCase() !== want.mac.toLowerCase()) {
      throw new CniError(CniCode.Generic, `interface ${a.ifName}: mac is ${link.address}, prevResult says ${want.mac}`);
    }
    const have = new Set((link.addr_info ?? []).map((x: any) => `${x.local}/${x.prefixlen}`));
    for (const ip of prev.ips ?? []) {
      if (ip.interface !== undefined && ip.interface !== idx) continue;
      const c = parseCIDR(ip.address)!;
      if (!have.has(`${formatIP(c.ip)}/${c.prefix}`)) throw new CniError(CniCode.Generic, `interface ${a.ifName}: address ${ip.address} is missing`);
    }
    const routes = [...(await k.ipJson(['route', 'show', 'dev', a.ifName], a.netns)), ...(await k.ipJson(['-6', 'route', 'show', 'dev', a.ifName], a.netns))];
    for (const r of prev.routes ?? []) {
      const dst = r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : formatCIDR(parseCIDR(r.dst)!);
      const ok = routes.some((x: any) => (x.dst === dst || `${x.dst}` === r.dst) && (!r.gw || x.gateway === r.gw));
      if (!ok) throw new CniError(CniCode.Generic, `interface ${a.ifName}: route to ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing`);
    }
    const hostVeth = (prev.interfaces ?? []).find((i, j) => j !== idx && !i.sandbox && i.name !== cfg.bridge);
    if (hostVeth) {
      const hl = k.hostLink(hostVeth.name);
      if (!hl) throw new CniError(CniCode.Generic, `host interface ${hostVeth.name} is missing`);
      if (hl.master !== cfg.bridge) throw new CniError(CniCode.Generic, `host interface ${hostVeth.name} is not attached to bridge ${cfg.bridge}`);
    }
  }

  return {
    name: 'shoal-bridge',
    supportedVersions,
    add,
    del,
    check,
    async status(a) {
      const cfg = parseBridgeConfig(a.conf, a.args);
      await ipam(a, cfg, 'STATUS');
    },
    async gc(a) {
      const cfg = parseBridgeConfig(a.conf, a.args);
      await ipam(a, cfg, 'GC');
    },
  };
}

