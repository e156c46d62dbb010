// Allocation bitmaps for Service IPs and NodePorts, after kube-apiserver's pkg/registry/core/service/
// ipallocator and portallocator: a range of integers, each free or taken. Dynamic allocation prefers the
// upper part of the range (Kubernetes 1.27+ "static and dynamic bands"), so users who pick low addresses
// or ports by hand (10.96.0.10 for DNS) rarely collide with one handed out automatically. Address maths
// is lib/net's.

import { intToIpv4, ipv4Mask, ipv4ToInt } from '../../lib/net/ip.js';

/** A set of integers [base, base+size) with allocation. Offsets are relative to `base`. */
export class RangeAllocator {
  private readonly bits: Uint8Array;
  private used = 0;
  /** offsets below this form the static band: dynamic allocation uses it only when the rest is full */
  readonly staticBand: number;

  constructor(readonly base: number, readonly size: number, private readonly random: () => number = Math.random) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
    // kube's calculateRangeOffset: min(max(16, size/16), 256)
    this.staticBand = size < 16 ? 0 : Math.min(Math.max(16, Math.floor(size / 16)), 256);
  }

  /** True when `v` is inside the range. */
  contains(v: number): boolean {
    return v >= this.base && v < this.base + this.size;
  }

  /** True when `v` is taken. */
  has(v: number): boolean {
    const o = v - this.base;
    return this.contains(v) && (this.bits[o >> 3]! & (1 << (o & 7))) !== 0;
  }

  /** Take `v`; false when out of range or already taken. */
  allocate(v: number): boolean {
    if (!this.contains(v) || this.has(v)) return false;
    const o = v - this.base;
    this.bits[o >> 3]! |= 1 << (o & 7);
    this.used++;
    return true;
  }

  /** Free `v` (no-op when free or out of range). */
  release(v: number): void {
    if (!this.has(v)) return;
    const o = v - this.base;
    this.bits[o >> 3]! &= ~(1 << (o & 7));
    this.used--;
  }

  /** Take any free value: a random start in the dynamic band, scanning up; then the static band. */
  allocateNext(): number | undefined {
    if (this.used >= this.size) return undefined;
    const dyn = this.size - this.staticBand;
    if (dyn > 0) {
      const start = Math.floor(this.random() * dyn);
      for (let i = 0; i < dyn; i++) {
        const v = this.base + this.staticBand + ((start + i) % dyn);
        if (this.allocate(v)) return v;
      }
    }
    for (let i = 0; i < this.staticBand; i++) if (this.allocate(this.base + i)) return this.base + i;
    return undefined;
  }

  /** How many values are taken. */
  count(): number {
    return this.used;
  }

  /** Free everything. */
  clear(): void {
    this.bits.fill(0);
    this.used = 0;
  }
}

/** An IPv4 CIDR parsed: the network address as an integer and the prefix length. */
export interface Cidr {
  network: number;
  prefix: number;
  text: string;
}

/** Parse `a.b.c.d/n` (IPv4 only); throws naming the problem. */
export function parseCidr(text: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text);
  if (!m) throw new Error(`must be an IPv4 CIDR like 10.96.0.0/12, got ${JSON.stringify(text)}`);
  const ip = ipv4ToInt(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix < 8 || prefix > 30) throw new Error(`must be an IPv4 CIDR with a prefix between /8 and /30, got ${JSON.stringify(text)}`);
  const mask = ipv4Mask(prefix);
  if ((ip & mask) >>> 0 !== ip) throw new Error(`${JSON.stringify(text)} has host bits set; the network is ${intToIpv4((ip & mask) >>> 0)}/${prefix}`);
  return { network: ip, prefix, text };
}

/** The usable service IPs of a CIDR (network and broadcast excluded), as kube's ipallocator. */
export function serviceIpRange(c: Cidr): { base: number; size: number } {
  const total = 2 ** (32 - c.prefix);
  return { base: c.network + 1, size: total - 2 };
}

/** The first service IP (`10.96.0.1`), reserved for the `kubernetes` Service. */
export function firstServiceIp(cidr: string): string {
  return intToIpv4(parseCidr(cidr).network + 1);
}

/** Parse `30000-32767`; throws naming the problem. */
export function parsePortRange(text: string): { base: number; size: number; text: string } {
  const m = /^(\d+)-(\d+)$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new Error(`must be a port range like 30000-32767, got ${JSON.stringify(text)}`);
  return { base: lo, size: hi - lo + 1, text };
}
