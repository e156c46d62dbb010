// A tiny protobuf encoder for tests: builds the byte sequences the decoder must read, field by field, so
// each test spells out exactly which field numbers and wire types it sends.

/** A varint; negative numbers are sent as ten-byte two's complement, as Go does for int32/int64. */
export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return Buffer.from(out);
}

/** A field key. */
export function key(field: number, wire: number): Buffer {
  return varint(field * 8 + wire);
}

/** A length-delimited field holding raw bytes. */
export function bytes(field: number, b: Buffer | string): Buffer {
  const payload = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return Buffer.concat([key(field, 2), varint(payload.length), payload]);
}

/** A string field (same bytes as `bytes`, named for readability). */
export const str = bytes;

/** An embedded message field. */
export function msg(field: number, ...parts: Buffer[]): Buffer {
  return bytes(field, Buffer.concat(parts));
}

/** A varint field (int32, int64, enum). */
export function int(field: number, n: number | bigint): Buffer {
  return Buffer.concat([key(field, 0), varint(n)]);
}

/** A bool field. */
export function bool(field: number, b: boolean): Buffer {
  return int(field, b ? 1 : 0);
}

/** A map<string, string> field as repeated entries. */
export function stringMap(field: number, m: Record<string, string>): Buffer {
  return Buffer.concat(Object.entries(m).map(([k, v]) => msg(field, str(1, k), str(2, v))));
}

/** A map<string, bytes> field. */
export function bytesMap(field: number, m: Record<string, Buffer>): Buffer {
  return Buffer.concat(Object.entries(m).map(([k, v]) => msg(field, str(1, k), bytes(2, v))));
}

/** A map<string, Quantity> field (ResourceList). */
export function quantityMap(field: number, m: Record<string, string>): Buffer {
  return Buffer.concat(Object.entries(m).map(([k, v]) => msg(field, str(1, k), msg(2, str(1, v)))));
}

/** A metav1.Time field. */
export function time(field: number, seconds: number, nanos = 0): Buffer {
  return msg(field, int(1, seconds), ...(nanos ? [int(2, nanos)] : []));
}

/** An intstr.IntOrString field. */
export function intOrString(field: number, v: number | string): Buffer {
  return typeof v === 'number' ? msg(field, int(1, 0), int(2, v)) : msg(field, int(1, 1), str(3, v));
}

/** A fixed32 field. */
export function fixed32(field: number, n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return Buffer.concat([key(field, 5), b]);
}

/** A fixed64 field. */
export function fixed64(field: number, n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return Buffer.concat([key(field, 1), b]);
}

/** The "k8s\0" magic. */
export const MAGIC = Buffer.from('k8s\0', 'latin1');

/** The runtime.Unknown typeMeta + raw, without the magic (to compute offsets in tests). */
export function unknown(apiVersion: string, kind: string, raw: Buffer, ...extra: Buffer[]): Buffer {
  return Buffer.concat([msg(1, str(1, apiVersion), str(2, kind)), bytes(2, raw), ...extra]);
}

/** A whole request body: magic + runtime.Unknown. */
export function envelope(apiVersion: string, kind: string, raw: Buffer, ...extra: Buffer[]): Buffer {
  return Buffer.concat([MAGIC, unknown(apiVersion, kind, raw, ...extra)]);
}

/** ObjectMeta with just a name, as field 1 of a top-level object. */
export function named(name: string): Buffer {
  return msg(1, str(1, name));
}
