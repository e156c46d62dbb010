// Endpoint choice for one cluster, by its LbPolicy: ROUND_ROBIN; LEAST_REQUEST as Envoy does it (power of
// two choices: two distinct random endpoints, the one with fewer active requests wins); RANDOM; and
// consistent hashing on a header, a cookie (generated with Set-Cookie when absent and a ttl is set, as
// Envoy does), the source IP or a query parameter, over a ring (ketama-style, minimumRingSize entries) or
// a maglev table. The tables are rebuilt only when the endpoint set changes. Randomness and the cookie
// generator are seams (tests seed them).
import { randomBytes } from 'node:crypto';
import type { HashSource, LbPolicy } from './policy.js';

/** What a balancer needs of an endpoint. */
export interface LbEndpoint {
  address: string;
  port: number;
}

/** What a balancer may look at in a request. */
export interface PickInput {
  headers: readonly string[];
  /** Path with query string. */
  path: string;
  sourceIp: string;
}

/** The choice, and a cookie to set on the response when the hash cookie was generated. */
export interface Pick<E> {
  endpoint: E;
  setCookie?: string;
}

export interface BalancerSeams {
  random?: () => number;
  newCookie?: () => string;
}

/** 32-bit FNV-1a then a murmur3 finalizer (good spread for ring positions). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const keyOf = (e: LbEndpoint) => `${e.address}:${e.port}`;

/** A cluster's balancer: call `pick`, then `release` the endpoint when the request ends. */
export class Balancer<E extends LbEndpoint> {
  private rr = 0;
  private readonly active = new Map<string, number>();
  private tableKey = '';
  private ring: { points: Uint32Array; owners: Int32Array } | null = null;
  private maglev: Int32Array | null = null;
  private readonly random: () => number;
  private readonly newCookie: () => string;

  constructor(readonly policy: LbPolicy, seams: BalancerSeams = {}) {
    this.random = seams.random ?? Math.random;
    this.newCookie = seams.newCookie ?? (() => randomBytes(8).toString('hex'));
  }

  /** Chooses an endpoint (null when there is none) and counts it active until `release`. */
  pick(endpoints: readonly E[], req: PickInput): Pick<E> | null {
    if (endpoints.length === 0) return null;
    const p = this.choose(endpoints, req);
    const k = keyOf(p.endpoint);
    this.active.set(k, (this.active.get(k) ?? 0) + 1);
    return p;
  }

  /** The request on `e` ended. */
  release(e: LbEndpoint): void {
    const k = keyOf(e);
    const n = (this.active.get(k) ?? 0) - 1;
    if (n <= 0) this.active.delete(k);
    else this.active.set(k, n);
  }

  /** Active requests on an endpoint (admin, tests). */
  activeRequests(e: LbEndpoint): number {
    return this.active.get(keyOf(e)) ?? 0;
  }

  private choose(eps: readonly E[], req: PickInput): Pick<E> {
    const n = eps.length;
    switch (this.policy.kind) {
      case 'ROUND_ROBIN': return { endpoint: eps[this.rr++ % n] };
      case 'RANDOM': return { endpoint: eps[Math.floor(this.random() * n)] };
      case 'LEAST_REQUEST': {
        if (n === 1) return { endpoint: eps[0] };
        const a = Math.floor(this.random() * n);
        let b = Math.floor(this.random() * (n - 1));
        if (b >= a) b++;
        const la = this.active.get(keyOf(eps[a])) ?? 0, lb = this.active.get(keyOf(eps[b])) ?? 0;
        return { endpoint: lb < la ? eps[b] : eps[a] };
      }
      case 'CONSISTENT_HASH': {
        const { key, setCookie } = this.hashKey(this.policy.source, req);
        if (key === undefined) return { endpoint: eps[Math.floor(this.random() * n)] };
        const i = this.policy.table === 'maglev' ? this.maglevLookup(eps, hash32(key)) : this.ringLookup(eps, hash32(key));
        return setCookie ? { endpoint: eps[i], setCookie } : { endpoint: eps[i] };
      }
    }
  }

  private hashKey(src: HashSource, req: PickInput): { key?: string; setCookie?: string } {
    switch (src.by) {
      case 'header': {
        for (let i = 0; i < req.headers.length; i += 2) if (req.headers[i] === src.name) return { key: req.headers[i + 1] };
        return {};
      }
      case 'sourceIp': return { key: req.sourceIp };
      case 'query': {
        const q = req.path.indexOf('?');
        if (q === -1) return {};
        const v = new URLSearchParams(req.path.slice(q + 1)).get(src.name);
        return v === null ? {} : { key: v };
      }
      case 'cookie': {
        const v = cookieValue(req.headers, src.name);
        if (v !== undefined) return { key: v };
        if (src.ttlSeconds <= 0) return {};
        const value = this.newCookie();
        let c = `${src.name}=${value}; Max-Age=${Math.floor(src.ttlSeconds)}`;
        if (src.path) c += `; Path=${src.path}`;
        return { key: value, setCookie: `${c}; HttpOnly` };
      }
    }
  }

  private rebuild(eps: readonly E[]): void {
    const key = eps.map(keyOf).join(',');
    if (key === this.tableKey) return;
    this.tableKey = key;
    this.ring = null;
    this.maglev = null;
  }

  /** Ketama-style ring: each endpoint gets ceil(size / n) points; the first point ≥ hash owns it. */
  private ringLookup(eps: readonly E[], h: number): number {
    this.rebuild(eps);
    if (this.ring === null) {
      const per = Math.ceil((this.policy as { size: number }).size / eps.length);
      const pts: [number, number][] = [];
      eps.forEach((e, i) => { for (let j = 0; j < per; j++) pts.push([hash32(`${keyOf(e)}_${j}`), i]); });
      pts.sort((x, y) => x[0] - y[0]);
      this.ring = { points: Uint32Array.from(pts.map((p) => p[0])), owners: Int32Array.from(pts.map((p) => p[1])) };
    }
    const { points, owners } = this.ring;
    let lo = 0, hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return owners[lo === points.length ? 0 : lo];
  }

  /** Maglev (Eisenbud et al. 2016): each endpoint fills the table by its permutation in turn. */
  private maglevLookup(eps: readonly E[], h: number): number {
    this.rebuild(eps);
    if (this.maglev === null) {
      const m = (this.policy as { size: number }).size;
      const table = new Int32Array(m).fill(-1);
      const offset = eps.map((e) => hash32(`${keyOf(e)}#o`) % m);
      const skip = eps.map((e) => (hash32(`${keyOf(e)}#s`) % (m - 1)) + 1);
      const next = new Array<number>(eps.length).fill(0);
      let filled = 0;
      while (filled < m) {
        for (let i = 0; i < eps.length && filled < m; i++) {
          let c = (offset[i] + next[i] * skip[i]) % m;
          while (table[c] >= 0) { next[i]++; c = (offset[i] + next[i] * skip[i]) % m; }
          table[c] = i;
          next[i]++;
          filled++;
        }
      }
      this.maglev = table;
    }
    return this.maglev[h % this.maglev.length];
  }
}

/** The value of cookie `name` in the request's Cookie headers. */
export function cookieValue(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    for (const part of headers[i + 1].split(';')) {
      const eq = part.indexOf('=');
      if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}
