// The fast path's view of a query: a hand-written parser that reads only what the answer depends on (ID,
// flags, the one question, the OPT record) and checks every length against the buffer, so malformed
// packets (truncated, bad label lengths, compression pointers, huge counts) become FORMERR or are dropped
// without reaching dns2. Also the few byte patches that turn a cached answer into this query's answer.

/** RCODEs used here. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;

/** A parsed query. `qname` is lowercase without the trailing dot ('' for the root). */
export interface Query {
  id: number;
  /** header byte 2 and 3 as received */
  flags: number;
  opcode: number;
  rd: boolean;
  qname: string;
  /** offset and length of the question name's wire bytes (from 12) */
  qnameLen: number;
  qtype: number;
  qclass: number;
  /** end of the question section */
  questionEnd: number;
  /** the requestor's EDNS0 UDP payload size, or 0 when the query has no OPT record */
  ednsSize: number;
  ednsVersion: number;
  ednsDo: boolean;
}

/** Why a packet has no normal answer: dropped (not even a header), or an error RCODE to send back. */
export type ParseResult = { ok: true; q: Query } | { ok: false; drop: true } | { ok: false; drop: false; id: number; flags: number; rcode: number; q?: Query };

const MAX_NAME = 255;

/** Parse a query packet; never throws. */
export function parseQuery(b: Buffer): ParseResult {
  if (b.length < 12) return { ok: false, drop: true };
  const id = b.readUInt16BE(0);
  const flags = b.readUInt16BE(2);
  if (flags & 0x8000) return { ok: false, drop: true }; // a response: never answer those (reflection loops)
  const opcode = (flags >> 11) & 0xf;
  const fail = (rcode: number, q?: Query): ParseResult => ({ ok: false, drop: false, id, flags, rcode, q });
  if (opcode !== 0) return fail(RCODE.NOTIMP);
  const qd = b.readUInt16BE(4), an = b.readUInt16BE(6), ns = b.readUInt16BE(8), ar = b.readUInt16BE(10);
  if (qd !== 1 || an !== 0 || ns !== 0 || ar > 4) return fail(RCODE.FORMERR);
  // The question name: plain labels only (a pointer at offset 12 could only point forward or at itself).
  let off = 12;
  let name = '';
  for (;;) {
    if (off >= b.length) return fail(RCODE.FORMERR);
    const len = b[off];
    if (len === 0) {
      off++;
      break;
    }
    if (len > 63) return fail(RCODE.FORMERR);
    if (off + 1 + len > b.length || off + 1 + len - 12 >= MAX_NAME) return fail(RCODE.FORMERR);
    for (let i = off + 1; i <= off + len; i++) {
      let c = b[i];
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      // Dots and bytes outside printable ASCII inside a label cannot match any record; keep them escaped.
      name += c === 0x2e || c < 0x21 || c > 0x7e ? '\\' + c.toString().padStart(3, '0') : String.fromCharCode(c);
    }
    name += '.';
    off += 1 + len;
  }
  if (off + 4 > b.length) return fail(RCODE.FORMERR);
  const q: Query = {
    id, flags, opcode, rd: (flags & 0x0100) !== 0, qname: name.slice(0, -1), qnameLen: off - 12,
    qtype: b.readUInt16BE(off), qclass: b.readUInt16BE(off + 2), questionEnd: off + 4, ednsSize: 0, ednsVersion: 0, ednsDo: false,
  };
  off += 4;
  // Additional records: find OPT; any other record is skipped with bounds checks.
  let opts = 0;
  for (let i = 0; i < ar; i++) {
    const n = skipName(b, off);
    if (n < 0 || n + 10 > b.length) return fail(RCODE.FORMERR, q);
    const type = b.readUInt16BE(n);
    const rdlen = b.readUInt16BE(n + 8);
    if (n + 10 + rdlen > b.length) return fail(RCODE.FORMERR, q);
    if (type === 41) {
      if (++opts > 1 || n !== off + 1) return fail(RCODE.FORMERR, q); // one OPT, owner must be the root
      q.ednsSize = Math.max(512, b.readUInt16BE(n + 2));
      q.ednsVersion = b[n + 5];
      q.ednsDo = (b[n + 6] & 0x80) !== 0;
    }
    off = n + 10 + rdlen;
  }
  return { ok: true, q };
}

/** Skip a (possibly compressed) name; returns the offset after it, or -1 when it is malformed. */
function skipName(b: Buffer, off: number): number {
  let total = 0;
  for (;;) {
    if (off >= b.length) return -1;
    const len = b[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= b.length ? off + 2 : -1; // a pointer ends the name here
    if (len > 63) return -1;
    total += len + 1;
    if (total >= MAX_NAME) return -1;
    off += 1 + len;
  }
}

/** The size limit of a UDP answer for this query (512 without EDNS; the advertised size, capped). */
export function udpLimit(q: Query, cap = 4096): number {
  return q.ednsSize ? Math.min(q.ednsSize, cap) : 512;
}

/**
 * Turn a cached answer (ID 0, question name lowercase) into this query's answer: copy, set the ID, the RD
 * bit, and the question name's original case (DNS 0x20) from the query.
 */
export function patchAnswer(cached: Buffer, query: Buffer, q: Query): Buffer {
  const out = Buffer.allocUnsafe(cached.length);
  cached.copy(out);
  out[0] = query[0];
  out[1] = query[1];
  out[2] = (out[2] & 0xfe) | (query[2] & 0x01);
  query.copy(out, 12, 12, 12 + q.qnameLen);
  return out;
}

/** A bare error answer: header (+ the question when it parsed), QR set, the RCODE, RD copied. */
export function errorAnswer(query: Buffer, id: number, flags: number, rcode: number, q?: Query): Buffer {
  const qlen = q ? q.questionEnd - 12 : 0;
  const opt = q && q.ednsSize ? 11 : 0;
  const out = Buffer.alloc(12 + qlen + opt);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x8000 | (flags & 0x7900) | 0x0080 | (rcode & 0xf), 2); // QR, opcode, RD, RA
  if (q) {
    out.writeUInt16BE(1, 4);
    query.copy(out, 12, 12, q.questionEnd);
  }
  if (opt) {
    out.writeUInt16BE(1, 10);
    const o = 12 + qlen;
    out[o] = 0;
    out.writeUInt16BE(41, o + 1);
    out.writeUInt16BE(1232, o + 3);
    out[o + 5] = rcode >> 4; // extended RCODE (BADVERS)
  }
  return out;
}
