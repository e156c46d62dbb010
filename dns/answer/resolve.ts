// From a question to an answer, for names the server is authoritative for: the cluster zone (services,
// endpoints, pods, dns-version, the apex SOA/NS) and reverse names of known addresses. Everything else is
// "forward". Pure apart from reading the ZoneIndex; the result is turned into bytes by encode.ts.

import { isIP } from 'node:net';
import type { ZoneIndex } from '../zone/index.js';
import type { Rec } from '../zone/records.js';

/** Record type numbers used by the zone. */
export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
const TYPE_OF: Record<Rec['type'], number> = { A: 1, AAAA: 28, CNAME: 5, PTR: 12, SRV: 33, TXT: 16 };

/** A record as dns2 encodes it. */
export interface Rr {
  name: string;
  type: number;
  class: number;
  ttl: number;
  [field: string]: unknown;
}

/** What to send back: an authoritative answer, SERVFAIL, or "ask the upstreams". */
export type Answer =
  | { kind: 'forward' }
  | { kind: 'answer'; rcode: number; answers: Rr[]; authority: Rr[]; additional: Rr[]; rotate: boolean; deps: string[]; cacheable: boolean };

/** Frozen resolver settings. */
export interface ResolverConfig {
  zone: string;
  ttl: number;
  /** answer `a-b-c-d.<ns>.pod.<zone>` (CoreDNS `pods insecure`) */
  podsInsecure: boolean;
}

/** Answers questions from a ZoneIndex. `synced()` is false until the informers delivered their first list. */
export class Resolver {
  private readonly soa: Rr;
  private readonly zoneSuffix: string;

  constructor(readonly cfg: ResolverConfig, private readonly index: ZoneIndex, private readonly synced: () => boolean) {
    this.zoneSuffix = '.' + cfg.zone;
    this.soa = {
      name: cfg.zone, type: TYPE.SOA, class: 1, ttl: cfg.ttl, primary: `ns.dns.${cfg.zone}`, admin: `hostmaster.${cfg.zone}`,
      serial: Math.floor(Date.now() / 1000) >>> 0, refresh: 7200, retry: 1800, expiration: 86400, minimum: cfg.ttl,
    };
  }

  /** True when the name is in the cluster zone (the apex included). */
  inZone(name: string): boolean {
    return name === this.cfg.zone || name.endsWith(this.zoneSuffix);
  }

  /** Answer one question (name lowercase, no trailing dot). */
  resolve(name: string, qtype: number, qclass: number): Answer {
    const reverse = name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa');
    if (!this.inZone(name) && !reverse) {
      // a ServiceEntry host (Istio's DNS proxy answers them); anything else goes upstream
      const recs = this.index.lookup(name);
      return recs.length ? this.fromRecords(name, recs, qtype, qclass, []) : { kind: 'forward' };
    }
    if (!this.synced()) return this.result(2, [], [], false, [], false);
    if (reverse) {
      const recs = this.index.lookup(name);
      if (!recs.length) return { kind: 'forward' }; // CoreDNS' `fallthrough in-addr.arpa ip6.arpa`
      return this.fromRecords(name, recs, qtype, qclass, []);
    }
    if (qclass !== 1 && qclass !== 255) return this.result(5, [], [], false, [], true); // REFUSED: only IN
    if (name === this.cfg.zone) {
      const ans: Rr[] = [];
      if (qtype === TYPE.SOA || qtype === TYPE.ANY) ans.push(this.soa);
      if (qtype === TYPE.NS || qtype === TYPE.ANY) ans.push({ name, type: TYPE.NS, class: 1, ttl: this.cfg.ttl, ns: this.soa.primary });
      return this.result(0, ans, ans.length ? [] : [this.soa], false, [], true);
    }
    const pod = this.podRecord(name);
    if (pod !== undefined) return this.fromRecords(name, pod ? [pod] : [], qtype, qclass, []);
    const recs = this.index.lookup(name);
    if (!recs.length && !this.index.exists(name)) return this.result(3, [], [this.soa], false, [], true);
    return this.fromRecords(name, recs, qtype, qclass, []);
  }

  private fromRecords(name: string, recs: Rec[], qtype: number, qclass: number, deps: string[]): Answer {
    const cname = recs.find((r) => r.type === 'CNAME');
    if (cname && qtype !== TYPE.CNAME && qtype !== TYPE.ANY) {
      // Follow the chain inside the zone (bounded), the target's records joining the answer.
      const answers: Rr[] = [this.rr(cname)];
      let target = (cname as { target: string }).target;
      for (let hop = 0; hop < 8 && this.inZone(target); hop++) {
        deps.push(target);
        const next = this.index.lookup(target);
        const c = next.find((r) => r.type === 'CNAME');
        if (c) {
          answers.push(this.rr(c));
          target = (c as { target: string }).target;
          continue;
        }
        for (const r of next) if (TYPE_OF[r.type] === qtype) answers.push(this.rr(r));
        break;
      }
      return this.result(0, answers, [], false, deps, true);
    }
    const hits = recs.filter((r) => qtype === TYPE.ANY || TYPE_OF[r.type] === qtype);
    if (!hits.length) return this.result(0, [], [this.soa], false, deps, true);
    const answers = hits.map((r) => this.rr(r));
    const additional: Rr[] = [];
    if (qtype === TYPE.SRV) {
      for (const h of hits) {
        const t = (h as { target: string }).target;
        for (const r of this.index.lookup(t)) if (r.type === 'A' || r.type === 'AAAA') additional.push(this.rr(r));
        deps.push(t);
      }
    }
    const rotate = (qtype === TYPE.A || qtype === TYPE.AAAA) && answers.length > 1;
    return this.result(0, answers, [], rotate, deps, true, additional);
  }

  /** `a-b-c-d.<ns>.pod.<zone>`: a record (A or AAAA), null for a pod-shaped name with a bad address, undefined otherwise. */
  private podRecord(name: string): Rec | null | undefined {
    const rest = name.slice(0, -this.zoneSuffix.length);
    const parts = rest.split('.');
    if (parts.length !== 3 || parts[2] !== 'pod') return undefined;
    if (!this.cfg.podsInsecure) return undefined;
    const v4 = parts[0].replace(/-/g, '.');
    if (isIP(v4) === 4) return { name, type: 'A', address: v4 };
    const v6 = parts[0].replace(/-/g, ':');
    if (isIP(v6) === 6) return { name, type: 'AAAA', address: v6 };
    return undefined;
  }

  private rr(r: Rec): Rr {
    const base = { name: r.name, type: TYPE_OF[r.type], class: 1, ttl: this.cfg.ttl };
    switch (r.type) {
      case 'A':
      case 'AAAA':
        return { ...base, address: r.address };
      case 'CNAME':
      case 'PTR':
        return { ...base, domain: r.target };
      case 'SRV':
        return { ...base, priority: r.priority, weight: r.weight, port: r.port, target: r.target };
      case 'TXT':
        return { ...base, data: [r.text] };
    }
  }

  private result(rcode: number, answers: Rr[], authority: Rr[], rotate: boolean, deps: string[], cacheable: boolean, additional: Rr[] = []): Answer {
    return { kind: 'answer', rcode, answers, authority, additional, rotate, deps, cacheable };
  }
}
