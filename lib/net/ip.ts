// IP address and CIDR arithmetic for IPv4 and IPv6, the one copy every process uses (CNI IPAM and
// bridge, API validation, the Service IP allocator, the node agent, the policy model, the service proxy's
// LoadBalancer pool). Exact parsing and the canonical text form (RFC 5952 for IPv6, which is also what
// Go's net.IP.String() prints: host-local's file names use it) on bigints; IPv4 on plain numbers at the
// end for hot paths.

/** An IP address: its family and its value as an unsigned integer. */
export interface IP {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** An address with a prefix length, e.g. `10.244.0.5/24`. */
export interface CIDR {
  readonly ip: IP;
  readonly prefix: number;
}

const bits = (f: 4 | 6): number => (f === 4 ? 32 : 128);

/** Parses an IPv4 or IPv6 address; returns undefined when the text is not one. */
export function parseIP(text: string): IP | undefined {
  if (typeof text !== 'string') return undefined;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  let s = text;
  const v4 = /(\d{1,3}(\.\d{1,3}){3})$/.exec(s);
  if (v4) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
    const p = parseIP(v4[1]);
    if (!p || !/:$/.test(s.slice(0, -v4[1].length))) return undefined;
    s = `${s.slice(0, -v4[1].length)}${(p.value >> 16n).toString(16)}:${(p.value & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): number[] | undefined => {
    if (h === '') return [];
    const gs = h.split(':');
    if (gs.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return gs.map((g) => parseInt(g, 16));
  };
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (explicit > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
  } else {
    if (explicit !== 8) return undefined;
    groups = head;
  }
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n) };
}

/** The canonical text of an address (dotted quad, or RFC 5952 compressed IPv6). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses `addr/prefix`; returns undefined when malformed. The address keeps its host bits. */
export function parseCIDR(text: string): CIDR | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const ip = parseIP(m[1]);
  const prefix = Number(m[2]);
  if (!ip || prefix > bits(ip.family)) return undefined;
  return { ip, prefix };
}

/** `addr/prefix` text. */
export function formatCIDR(c: CIDR): string {
  return `${formatIP(c.ip)}/${c.prefix}`;
}

function hostMask(c: CIDR): bigint {
  return (1n << BigInt(bits(c.ip.family) - c.prefix)) - 1n;
}

/** The network address of a CIDR (host bits cleared). */
export function networkOf(c: CIDR): IP {
  return { family: c.ip.family, value: c.ip.value & ~hostMask(c) };
}

/** The last address of a CIDR (all host bits set). */
export function lastOf(c: CIDR): IP {
  return { family: c.ip.family, value: networkOf(c).value | hostMask(c) };
}

/** The CIDR with host bits cleared, e.g. 10.244.0.5/24 → 10.244.0.0/24. */
export function maskCIDR(c: CIDR): CIDR {
  return { ip: networkOf(c), prefix: c.prefix };
}

/** Whether `ip` lies inside `c`. */
export function contains(c: CIDR, ip: IP): boolean {
  return ip.family === c.ip.family && ip.value >= networkOf(c).value && ip.value <= lastOf(c).value;
}

/** Whether two CIDRs share any address. */
export function overlaps(a: CIDR, b: CIDR): boolean {
  return a.ip.family === b.ip.family && (contains(a, networkOf(b)) || contains(b, networkOf(a)));
}

/** `ip + n` in the same family (no wrap-around check: callers stay inside a range). */
export function addIP(ip: IP, n: bigint): IP {
  return { family: ip.family, value: ip.value + n };
}

/** Whether two addresses are the same. */
export function ipEqual(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

// ---------------------------------------------------------------------------------------------------
// text-level helpers (what flags, validation and allocators need)

/** The address after `n` host steps from the network of `cidr` (`10.96.0.0/12`, 1 → `10.96.0.1`); undefined when malformed or outside. */
export function nthAddress(cidr: string, n: number | bigint): string | undefined {
  const c = parseCIDR(cidr);
  if (!c) return undefined;
  const ip = addIP(networkOf(c), BigInt(n));
  return contains(c, ip) ? formatIP(ip) : undefined;
}

/** The first host address of a range (`10.96.0.0/12` → `10.96.0.1`: the `kubernetes` Service). */
export function firstHost(cidr: string): string | undefined {
  return nthAddress(cidr, 1);
}

/** Whether `ip` lies in `cidr` (a bare address counts as /32 or /128); false when either is malformed. */
export function cidrHas(cidr: string, ip: string): boolean {
  const c = parseCIDR(cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`);
  const a = parseIP(ip);
  return !!c && !!a && contains(c, a);
}

/** Whether `inner` lies wholly inside `outer` (same family, prefix at least as long). */
export function cidrCovers(outer: CIDR, inner: CIDR): boolean {
  return outer.ip.family === inner.ip.family && inner.prefix >= outer.prefix && contains(outer, networkOf(inner));
}

/** The number of addresses of a CIDR. */
export function sizeOf(c: CIDR): bigint {
  return 1n << BigInt(bits(c.ip.family) - c.prefix);
}

/** Whether `text` is an IPv4 CIDR (`a.b.c.d/n`, host bits allowed). */
export function isIPv4Cidr(text: string): boolean {
  const c = parseCIDR(text);
  return !!c && c.ip.family === 4 && /^[\d.]+\/\d+$/.test(text);
}

/**
 * The usable addresses of a CIDR, at most `max`: network and broadcast excluded for IPv4 prefixes below
 * /31 (kube's ipallocator and MetalLB pools), every address otherwise.
 */
export function hostsOf(cidr: string, max = 65536): string[] {
  const c = parseCIDR(cidr);
  if (!c) return [];
  const size = sizeOf(c);
  const trim = c.ip.family === 4 && c.prefix < 31 ? 1n : 0n;
  const base = networkOf(c);
  const out: string[] = [];
  for (let i = trim; i < size - trim && out.length < max; i++) out.push(formatIP(addIP(base, i)));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// IPv4 on plain numbers (hot paths: allocation bitmaps, the policy oracle)

/** `10.96.0.1` → 0x0a600001, or undefined when not a dotted quad. */
export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return v;
}

/** 0x0a600001 → `10.96.0.1`. */
export function intToIpv4(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** The netmask of an IPv4 prefix length as an unsigned number. */
export function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Whether IPv4 `ip` lies in IPv4 `cidr` (a bare address counts as /32); false for anything else. Number maths: fast enough for truth tables. */
export function ipv4InCidr(ip: string, cidr: string): boolean {
  const slash = cidr.indexOf('/');
  const a = ipv4ToInt(ip);
  const n = ipv4ToInt(slash < 0 ? cidr : cidr.slice(0, slash));
  const prefix = slash < 0 ? 32 : Number(cidr.slice(slash + 1));
  if (a === undefined || n === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
  const m = ipv4Mask(prefix);
  return ((a & m) >>> 0) === ((n & m) >>> 0);
}
