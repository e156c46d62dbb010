// The protobuf wire format, read by hand: varints, length-delimited fields, fixed32/64, and skipping
// what a table does not know. A Reader walks one message's bytes (a window of the whole request body),
// so every error names the byte offset in the body the client sent, not in the sub-message.

import { ApiError } from '../../../api/errors.js';

/** Protobuf wire types (the low three bits of a field key). */
export const WireType = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

/** Names for wire types, for error messages. */
const wireNames = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'wire type 6', 'wire type 7'];

/** The name of a wire type number. */
export function wireName(w: number): string {
  return wireNames[w] ?? `wire type ${w}`;
}

/** 400 BadRequest for malformed bytes; `offset` is counted from the start of the request body. */
export function malformed(offset: number, what: string, where = ''): ApiError {
  const at = where ? ` (in ${where})` : '';
  return new ApiError('BadRequest', `malformed protobuf body at byte offset ${offset}${at}: ${what}`);
}

/** One field key as read from the wire. */
export interface FieldKey {
  field: number;
  wire: number;
  /** body offset of the key's first byte */
  offset: number;
}

/** A cursor over `buf[start, end)`; offsets reported are absolute within `buf`. */
export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
    /** where we are in the object, for error messages (e.g. "spec.ports[0]") */
    readonly where: string,
  ) {
    this.pos = start;
  }

  /** True when the window is used up. */
  done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned 64-bit varint (at most ten bytes). */
  varint(): bigint {
    const at = this.pos;
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed(at, `truncated varint (ran out of bytes at offset ${this.pos})`, this.where);
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return BigInt.asUintN(64, v);
    }
    throw malformed(at, 'varint longer than 10 bytes', this.where);
  }

  /** A varint that must fit a non-negative JS number (keys and lengths). */
  smallVarint(what: string): number {
    const at = this.pos;
    const v = this.varint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(at, `${what} ${v} is too large`, this.where);
    return Number(v);
  }

  /** A field key, rejecting field number 0 and the deprecated group wire types. */
  key(): FieldKey {
    const offset = this.pos;
    const k = this.smallVarint('field key');
    const field = Math.floor(k / 8);
    const wire = k % 8;
    if (field === 0) throw malformed(offset, 'field number 0 is not allowed', this.where);
    if (wire === WireType.startGroup || wire === WireType.endGroup || wire > 5) {
      throw malformed(offset, `field ${field} uses unsupported ${wireName(wire)}`, this.where);
    }
    return { field, wire, offset };
  }

  /** The [start, end) window of a length-delimited value, advancing past it. */
  lengthDelimited(): { start: number; end: number } {
    const at = this.pos;
    const len = this.smallVarint('length');
    const start = this.pos;
    if (len > this.end - start) {
      throw malformed(at, `length ${len} runs past the end of the enclosing message (${this.end - start} bytes left)`, this.where);
    }
    this.pos = start + len;
    return { start, end: start + len };
  }

  /** Four little-endian bytes. */
  fixed32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Eight little-endian bytes, as an unsigned bigint. */
  fixed64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Skip the value of a field this decoder does not know. */
  skip(wire: number): void {
    if (wire === WireType.varint) this.varint();
    else if (wire === WireType.fixed64) this.fixed64();
    else if (wire === WireType.bytes) this.lengthDelimited();
    else if (wire === WireType.fixed32) this.fixed32();
    else throw malformed(this.pos, `cannot skip ${wireName(wire)}`, this.where);
  }

  private need(n: number): void {
    if (this.end - this.pos < n) {
      throw malformed(this.pos, `truncated fixed-width value: need ${n} bytes, ${this.end - this.pos} left`, this.where);
    }
  }
}
