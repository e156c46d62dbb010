// Answer → wire bytes, with dns2 doing the encoding (names compressed against the question). The result
// has ID 0 and RD clear: the fast path patches both per query (wire.ts `patchAnswer`). Answers larger than
// the transport's limit are sent with the TC bit and no records, so the client retries over TCP.

import DNS, { Packet } from 'dns2';
import type { Answer, Rr } from './resolve.js';

type Authoritative = Extract<Answer, { kind: 'answer' }>;

/** What the encoder needs from the query. */
export interface EncodeQuestion {
  name: string;
  type: number;
  class: number;
  /** 0: no OPT in the query, so none in the answer */
  ednsSize: number;
  /** byte limit (512 / EDNS size for UDP, 65535 for TCP) */
  limit: number;
}

/** Encode one answer, `rotation` rotating the answer section (headless services' round robin). */
export function encodeAnswer(q: EncodeQuestion, a: Authoritative, rotation = 0): Buffer {
  let answers = a.answers;
  if (rotation && answers.length > 1) {
    const k = rotation % answers.length;
    answers = [...answers.slice(k), ...answers.slice(0, k)];
  }
  const build = (an: Rr[], ns: Rr[], ad: Rr[], tc: boolean) => {
    const p = new Packet();
    Object.assign(p.header, { id: 0, qr: 1, opcode: 0, aa: 1, tc: tc ? 1 : 0, rd: 0, ra: 1, rcode: a.rcode & 0xf });
    p.questions.push({ name: q.name, type: q.type, class: q.class } as DNS.Packet.Question);
    p.answers.push(...(an as unknown as DNS.Packet.Resource[]));
    p.authorities.push(...(ns as unknown as DNS.Packet.Resource[]));
    p.additionals.push(...(ad as unknown as DNS.Packet.Resource[]));
    if (q.ednsSize) p.additionals.push(optRecord());
    return p.toBuffer();
  };
  const full = build(answers, a.authority, a.additional, false);
  if (full.length <= q.limit) return full;
  // Without the additional section first (RFC 2181 §9: no TC for dropped additional data) …
  const lean = build(answers, a.authority, [], false);
  if (lean.length <= q.limit) return lean;
  // … else truncated: header + question (+ OPT), TC set.
  return build([], [], [], true);
}

/** An OPT pseudo-record advertising 1232 bytes (the DNS flag day 2020 size), version 0, no options. */
export function optRecord(): DNS.Packet.Resource {
  return { name: '', type: 41, class: 1232, ttl: 0, rdata: [] } as unknown as DNS.Packet.Resource;
}
