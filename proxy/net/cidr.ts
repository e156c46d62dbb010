// Addresses and CIDR blocks as AuthorizationPolicy ipBlocks use them ("10.0.0.1" or "10.0.0.0/16"),
// matched with node:net's BlockList (no hand-rolled bit maths).
import { BlockList, isIP } from 'node:net';

/** Why `text` is not an IP address or CIDR block, or null when it is one. */
export function cidrError(text: string): string | null {
  if (typeof text !== 'string' || text === '') return 'must be an IP address or CIDR block';
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const fam = isIP(addr);
  if (fam === 0) return `${JSON.stringify(text)}: not an IP address or CIDR block`;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    const max = fam === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `${JSON.stringify(text)}: prefix length must be 0-${max}`;
  }
  return null;
}

/** A set of blocks; `has(ip)` is true when ip lies in any. Blocks must be valid (see cidrError). */
export class CidrSet {
  private readonly list = new BlockList();
  constructor(blocks: readonly string[]) {
    for (const b of blocks) {
      const slash = b.indexOf('/');
      const addr = slash < 0 ? b : b.slice(0, slash);
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (slash < 0) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, Number(b.slice(slash + 1)), type);
    }
  }
  /** True when `ip` is in one of the blocks. */
  has(ip: string): boolean {
    const bare = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const fam = isIP(bare);
    if (fam === 0) return false;
    return this.list.check(bare, fam === 6 ? 'ipv6' : 'ipv4');
  }
}

/** An IPv4-mapped IPv6 address ("::ffff:10.0.0.1") as plain IPv4. */
export function plainIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
