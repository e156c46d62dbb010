// The table-driven message decoder: protobuf bytes in, the JSON object Kubernetes' Go JSON encoder would
// print for the same Go struct out. Two passes per message: collect every field occurrence (checking wire
// types and bounds), then render the table's fields in order with Go's JSON rules — absent pointers,
// slices and maps vanish, `omitempty` hides zero scalars, plain structs always print, a zero metav1.Time
// is null and so dropped. A message field that occurs twice is merged, as protobuf requires.

import { ApiError } from '../../../api/errors.js';
import { type FieldSpec, type MessageSpec, isLeaf } from './schema.js';
import { Reader, WireType, malformed, wireName, type FieldKey } from './wire.js';

/** A [start, end) slice of the body holding one message (or part of one, when merged). */
export interface Window {
  start: number;
  end: number;
}

/** One occurrence of a field on the wire. */
interface Occurrence {
  key: FieldKey;
  /** varint or fixed value */
  value?: bigint;
  /** length-delimited payload */
  window?: Window;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const numericLeaves = new Set(['int32', 'int64', 'bool']);

/** The decoder over one request body with a set of message tables. */
export class MessageDecoder {
  constructor(
    private readonly buf: Buffer,
    private readonly tables: ReadonlyMap<string, MessageSpec>,
  ) {}

  /** Render the message `type` held in `windows` (several windows merge, later fields win). */
  message(type: string, windows: readonly Window[], where: string): Record<string, Json> {
    const spec = this.tables.get(type);
    if (!spec) throw new ApiError('InternalError', `protobuf: no table for message ${type}`);
    const occ = this.collect(spec, windows, where);
    const out: Record<string, Json> = {};
    for (const f of spec.fields) this.renderField(f, occ.get(f.no) ?? [], where, out);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // pass 1: collect occurrences

  private collect(spec: MessageSpec, windows: readonly Window[], where: string): Map<number, Occurrence[]> {
    const occ = new Map<number, Occurrence[]>();
    for (const w of windows) {
      const r = new Reader(this.buf, w.start, w.end, where || spec.name);
      while (!r.done()) {
        const key = r.key();
        const f = spec.byNumber.get(key.field);
        if (!f) {
          r.skip(key.wire);
          continue;
        }
        checkWire(f, key, r.where);
        const o: Occurrence = { key };
        if (key.wire === WireType.varint) o.value = r.varint();
        else if (key.wire === WireType.bytes) o.window = r.lengthDelimited();
        else if (key.wire === WireType.fixed64) o.value = r.fixed64();
        else o.value = BigInt(r.fixed32());
        const list = occ.get(f.no);
        if (list) list.push(o);
        else occ.set(f.no, [o]);
      }
    }
    return occ;
  }

  // ---------------------------------------------------------------------------------------------
  // pass 2: render with Go's JSON rules

  private renderField(f: FieldSpec, occ: Occurrence[], parent: string, out: Record<string, Json>): void {
    const path = f.inline ? parent : parent ? `${parent}.${f.json}` : f.json;
    if (f.inline) {
      Object.assign(out, this.message(f.type, occ.map((o) => o.window!), path));
      return;
    }
    if (f.shape === 'slice') {
      const items = this.sliceItems(f, occ, path);
      if (items.length) out[f.json] = items;
      return;
    }
    if (f.shape === 'map') {
      if (occ.length) out[f.json] = this.map(f, occ, path);
      return;
    }
    if (occ.length === 0 && f.shape === 'pointer') return;
    const v = occ.length ? this.single(f.type, occ, path) : this.zero(f.type, path);
    if (v === null) return;
    if (f.shape === 'single' && f.omitempty && (v === '' || v === 0 || v === false) && isScalar(f.type)) return;
    out[f.json] = v;
  }

  /** A non-repeated field; for messages all occurrences merge, for scalars the last one wins. */
  private single(type: string, occ: Occurrence[], path: string): Json {
    if (!isLeaf(type)) return this.message(type, occ.map((o) => o.window!), path);
    const last = occ[occ.length - 1]!;
    switch (type) {
      case 'string':
        return this.text(last.window!);
      case 'bytes':
        return this.buf.subarray(last.window!.start, last.window!.end).toString('base64');
      case 'int32':
      case 'int64':
      case 'bool':
        return number(type, last.value!, last.key.offset, path);
      case 'Time':
        return this.time(occ.map((o) => o.window!), path);
      case 'IntOrString':
        return this.intOrString(occ.map((o) => o.window!), path);
      case 'Quantity':
        return this.quantity(occ.map((o) => o.window!), path);
      case 'FieldsV1':
        return this.fieldsV1(occ.map((o) => o.window!), path);
    }
  }

  /** What Go prints for a field that was not on the wire (non-pointer, non-slice). */
  private zero(type: string, path: string): Json {
    switch (type) {
      case 'string':
        return '';
      case 'int32':
      case 'int64':
        return 0;
      case 'bool':
        return false;
      case 'bytes':
      case 'Time':
      case 'FieldsV1':
        return null;
      case 'IntOrString':
        return 0;
      case 'Quantity':
        return '0';
      default:
        return this.message(type, [], path);
    }
  }

  private sliceItems(f: FieldSpec, occ: Occurrence[], path: string): Json[] {
    const items: Json[] = [];
    for (const o of occ) {
      const at = `${path}[${items.length}]`;
      if (numericLeaves.has(f.type) && o.window) {
        // packed repeated scalars: a run of varints inside one length-delimited field
        const r = new Reader(this.buf, o.window.start, o.window.end, path);
        while (!r.done()) {
          const offset = r.pos;
          items.push(number(f.type, r.varint(), offset, path));
        }
      } else items.push(this.single(f.type, [o], at));
    }
    return items;
  }

  /** A map field: repeated entry messages with key = 1 and value = 2; Go prints keys sorted. */
  private map(f: FieldSpec, occ: Occurrence[], path: string): Json {
    const entries = new Map<string, Json>();
    for (const o of occ) {
      let key = '';
      let value: Occurrence[] = [];
      const r = new Reader(this.buf, o.window!.start, o.window!.end, path);
      while (!r.done()) {
        const k = r.key();
        if (k.field === 1 && k.wire === WireType.bytes) key = this.text(r.lengthDelimited());
        else if (k.field === 2 && k.wire === WireType.bytes) value = [{ key: k, window: r.lengthDelimited() }];
        else if (k.field === 1 || k.field === 2) {
          throw malformed(k.offset, `map entry field ${k.field} has ${wireName(k.wire)}, expected length-delimited`, path);
        } else r.skip(k.wire);
      }
      const at = `${path}[${JSON.stringify(key)}]`;
      entries.set(key, value.length ? this.single(f.type, value, at) : f.type === 'bytes' ? '' : this.zero(f.type, at));
    }
    const out: Record<string, Json> = {};
    for (const k of [...entries.keys()].sort()) out[k] = entries.get(k)!;
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // leaf messages with their own JSON forms

  private text(w: Window): string {
    return this.buf.toString('utf8', w.start, w.end);
  }

  /** The last value of each field of a small leaf message, across merged windows. */
  private leafFields(windows: readonly Window[], path: string): Map<number, Occurrence> {
    const last = new Map<number, Occurrence>();
    for (const w of windows) {
      const r = new Reader(this.buf, w.start, w.end, path);
      while (!r.done()) {
        const key = r.key();
        if (key.wire === WireType.varint) last.set(key.field, { key, value: r.varint() });
        else if (key.wire === WireType.bytes) last.set(key.field, { key, window: r.lengthDelimited() });
        else r.skip(key.wire);
      }
    }
    return last;
  }

  /** metav1.Time {seconds, nanos}: empty is the zero time (JSON null); else RFC 3339 in UTC, whole seconds. */
  private time(windows: readonly Window[], path: string): Json {
    if (windows.every((w) => w.end === w.start)) return null;
    const secs = this.leafFields(windows, path).get(1);
    const s = secs ? (number('int64', secs.value ?? 0n, secs.key.offset, path) as number) : 0;
    return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** intstr.IntOrString {type, intVal, strVal}: a JSON number or string. */
  private intOrString(windows: readonly Window[], path: string): Json {
    const f = this.leafFields(windows, path);
    const t = f.get(1);
    const kind = t?.value ?? 0n;
    if (kind === 0n) {
      const iv = f.get(2);
      return iv?.value !== undefined ? number('int32', iv.value, iv.key.offset, path) : 0;
    }
    if (kind === 1n) {
      const sv = f.get(3);
      return sv?.window ? this.text(sv.window) : '';
    }
    throw malformed(t!.key.offset, `IntOrString type ${kind} is neither 0 (int) nor 1 (string)`, path);
  }

  /** resource.Quantity {string}: its canonical string. */
  private quantity(windows: readonly Window[], path: string): Json {
    const s = this.leafFields(windows, path).get(1);
    return s?.window ? this.text(s.window) : '0';
  }

  /** metav1.FieldsV1 {raw}: raw is JSON text, printed as the JSON value it holds. */
  private fieldsV1(windows: readonly Window[], path: string): Json {
    const raw = this.leafFields(windows, path).get(1);
    if (!raw?.window) return null;
    try {
      return JSON.parse(this.text(raw.window)) as Json;
    } catch (e) {
      throw malformed(raw.window.start, `fieldsV1 raw bytes are not JSON: ${(e as Error).message}`, path);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function isScalar(type: string): boolean {
  return type === 'string' || type === 'int32' || type === 'int64' || type === 'bool' || type === 'bytes';
}

/** Check a field's wire type against its table type (repeated numerics may also be packed). */
function checkWire(f: FieldSpec, key: FieldKey, where: string): void {
  const numeric = numericLeaves.has(f.type) && f.shape !== 'map';
  const ok = numeric ? key.wire === WireType.varint || (f.shape === 'slice' && key.wire === WireType.bytes) : key.wire === WireType.bytes;
  if (!ok) {
    const name = f.inline ? f.type : f.json;
    throw malformed(key.offset, `field ${key.field} (${name}) has ${wireName(key.wire)}, expected ${numeric ? 'varint' : 'length-delimited'}`, where);
  }
}

/** A varint as int32 (sign-extended), int64 (must be a safe JS integer) or bool. */
function number(type: string, v: bigint, offset: number, path: string): number | boolean {
  if (type === 'bool') return v !== 0n;
  if (type === 'int32') return Number(BigInt.asIntN(32, v));
  const n = BigInt.asIntN(64, v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw malformed(offset, `int64 value ${n} does not fit a JSON number exactly`, path);
  }
  return Number(n);
}
