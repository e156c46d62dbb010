// ipMasq with nftables: one table `inet shoal-cni` for the plugin; per network (tag = a hash of the
// network name) a set of pod addresses per family and a postrouting NAT chain that masquerades traffic
// from those addresses to anywhere outside the pod subnets and multicast. ADD adds the pod's
// addresses to the sets (the chain is flushed and rewritten in the same transaction, so repeated ADDs
// stay idempotent); DEL removes the elements. Pure functions build the script text; the Kernel seam
// applies it.

import { type CIDR, formatCIDR, maskCIDR, parseCIDR } from '../../lib/net/ip.js';

/** The nftables table the bridge plugin owns. */
export const masqTable = 'shoal-cni';

/** A short stable tag for a network name (nft names are limited). */
export function networkTag(network: string): string {
  // FNV-1a, 32 bits: stable and dependency-free (node:crypto costs start-up time).
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(network)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function split(addresses: string[]): { v4: CIDR[]; v6: CIDR[] } {
  const cidrs = addresses.map((a) => parseCIDR(a)).filter((c): c is CIDR => !!c);
  return { v4: cidrs.filter((c) => c.ip.family === 4), v6: cidrs.filter((c) => c.ip.family === 6) };
}

const host = (c: CIDR): string => formatCIDR(c).split('/')[0];

/** The nft script that installs masquerading for a pod's addresses (`10.244.0.5/24` form). */
export function masqAddScript(network: string, containerID: string, ifname: string, addresses: string[]): string {
  const t = networkTag(network);
  const { v4, v6 } = split(addresses);
  const comment = `"${containerID.slice(0, 64)}/${ifname}"`;
  const lines = [
    `add table inet ${masqTable}`,
    `add set inet ${masqTable} pods4-${t} { type ipv4_addr; }`,
    `add set inet ${masqTable} pods6-${t} { type ipv6_addr; }`,
    `add chain inet ${masqTable} post-${t} { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain inet ${masqTable} post-${t}`,
  ];
  const nets4 = [...new Set(v4.map((c) => formatCIDR(maskCIDR(c))))];
  const nets6 = [...new Set(v6.map((c) => formatCIDR(maskCIDR(c))))];
  if (v4.length) {
    lines.push(`add rule inet ${masqTable} post-${t} ip saddr @pods4-${t} ip daddr != { ${[...nets4, '224.0.0.0/4'].join(', ')} } masquerade`);
    lines.push(`add element inet ${masqTable} pods4-${t} { ${v4.map((c) => `${host(c)} comment ${comment}`).join(', ')} }`);
  }
  if (v6.length) {
    lines.push(`add rule inet ${masqTable} post-${t} ip6 saddr @pods6-${t} ip6 daddr != { ${[...nets6, 'ff00::/8'].join(', ')} } masquerade`);
    lines.push(`add element inet ${masqTable} pods6-${t} { ${v6.map((c) => `${host(c)} comment ${comment}`).join(', ')} }`);
  }
  return lines.join('\n') + '\n';
}

/** One nft script per address that removes it from the network's sets (each may fail alone). */
export function masqDelScripts(network: string, addresses: string[]): string[] {
  const t = networkTag(network);
  const { v4, v6 } = split(addresses);
  return [
    ...v4.map((c) => `delete element inet ${masqTable} pods4-${t} { ${host(c)} }\n`),
    ...v6.map((c) => `delete element inet ${masqTable} pods6-${t} { ${host(c)} }\n`),
  ];
}
