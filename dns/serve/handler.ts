// One query in, one answer out — the whole request path, shared by UDP and TCP:
//
//   bytes ─ parseQuery ─┬─ drop / FORMERR / NOTIMP / BADVERS
//                       ├─ AnswerCache hit ──────────────► patch ID/RD/case ─► bytes   (the fast path)
//                       └─ Resolver ─┬─ zone answer ─ encode (dns2) ─ cache ─► patch ─► bytes
//                                    └─ forward ─ Forwarder (cache, upstreams) ─ encode ─► bytes
//
// Returns a Buffer synchronously whenever it can (cache hits, zone answers), a Promise only when forwarding.

import DNS, { Packet } from 'dns2';
import { errorAnswer, parseQuery, patchAnswer, RCODE, type Query } from './wire.js';
import { AnswerCache, sizeClass, subKey } from './cache.js';
import { encodeAnswer } from '../answer/encode.js';
import type { Resolver } from '../answer/resolve.js';
import type { Forwarder } from '../forward/forward.js';
import type { Stats } from '../health/metrics.js';
import { optRecord } from '../answer/encode.js';

/** The query handler with its cache. */
export class Handler {
  constructor(
    private readonly resolver: Resolver,
    readonly cache: AnswerCache,
    private readonly forwarder: Forwarder | undefined,
    private readonly stats: Stats,
    /** the largest UDP answer we send, whatever the client advertises */
    private readonly udpCap = 4096,
  ) {}

  /** Answer one packet; null means drop it. */
  handle(buf: Buffer, tcp: boolean): Buffer | null | Promise<Buffer | null> {
    const p = parseQuery(buf);
    if (!p.ok) {
      if (p.drop) {
        this.stats.dropped++;
        return null;
      }
      this.stats.response(p.rcode);
      return errorAnswer(buf, p.id, p.flags, p.rcode, p.q);
    }
    const q = p.q;
    this.stats.request(tcp, q.qtype);
    if (q.ednsVersion > 0) {
      this.stats.response(RCODE.BADVERS);
      return errorAnswer(buf, q.id, q.flags, RCODE.BADVERS, q);
    }
    const { cls, limit } = sizeClass(tcp, q.ednsSize);
    const sub = subKey(q.qtype, q.qclass, cls);
    const hit = this.cache.get(q.qname, sub);
    if (hit) {
      this.stats.cacheHits++;
      this.stats.response(hit[3] & 0xf);
      return patchAnswer(hit, buf, q);
    }
    this.stats.cacheMisses++;
    const a = this.resolver.resolve(q.qname, q.qtype, q.qclass);
    if (a.kind === 'forward') return this.forward(buf, q, Math.min(limit, this.udpCap));
    const eq = { name: q.qname, type: q.qtype, class: q.qclass, ednsSize: q.ednsSize, limit: Math.min(limit, tcp ? 65535 : this.udpCap) };
    const variants = [encodeAnswer(eq, a)];
    if (a.rotate) for (let k = 1; k < Math.min(a.answers.length, 16); k++) variants.push(encodeAnswer(eq, a, k));
    if (a.cacheable) this.cache.set(q.qname, sub, variants, a.deps);
    this.stats.response(a.rcode);
    return patchAnswer(variants[0], buf, q);
  }

  private async forward(buf: Buffer, q: Query, limit: number): Promise<Buffer | null> {
    if (!this.forwarder) {
      this.stats.response(RCODE.REFUSED);
      return errorAnswer(buf, q.id, q.flags, RCODE.REFUSED, q);
    }
    const { packet, rcode } = await this.forwarder.forward(q.qname, q.qtype, q.qclass);
    this.stats.response(rcode);
    if (rcode === RCODE.SERVFAIL) return errorAnswer(buf, q.id, q.flags, RCODE.SERVFAIL, q);
    const build = (tc: boolean) => {
      const out = new Packet();
      Object.assign(out.header, { id: q.id, qr: 1, opcode: 0, aa: 0, tc: tc ? 1 : 0, rd: q.rd ? 1 : 0, ra: 1, rcode: rcode & 0xf });
      out.questions.push({ name: q.qname, type: q.qtype, class: q.qclass } as DNS.Packet.Question);
      if (!tc) {
        out.answers = packet.answers;
        out.authorities = packet.authorities;
        out.additionals = packet.additionals.filter((r) => r.type !== 41);
      }
      if (q.ednsSize) out.additionals.push(optRecord() as DNS.Packet.Resource);
      return out.toBuffer();
    };
    const full = build(false);
    const res = full.length <= limit ? full : build(true);
    // the question's original case (0x20), as for zone answers
    buf.copy(res, 12, 12, 12 + q.qnameLen);
    return res;
  }
}
