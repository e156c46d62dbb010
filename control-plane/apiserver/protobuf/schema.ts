// Message tables: how each Kubernetes protobuf message maps field numbers to JSON names and Go types.
// Tables are written as short Go-like field specs (`'labels map[string]string'`, `'replicas *int32'`,
// `'name string omitempty'`) because the Go type, not the proto type, decides what Kubernetes' JSON
// encoder would print: pointers, slices and maps vanish when absent, `omitempty` hides zero scalars, and a
// plain struct is always printed. Specs are parsed once at load time, checked, and frozen.

/** Leaf types the decoder knows how to render. */
export const leafTypes = ['string', 'bytes', 'int32', 'int64', 'bool', 'Time', 'IntOrString', 'Quantity', 'FieldsV1'] as const;

/** One leaf type. */
export type Leaf = (typeof leafTypes)[number];

/** A parsed field of a message table. */
export interface FieldSpec {
  no: number;
  /** JSON name; empty for an embedded (inlined) struct */
  json: string;
  /** a leaf type or the name of another message table */
  type: string;
  shape: 'single' | 'pointer' | 'slice' | 'map';
  omitempty: boolean;
  /** embedded Go struct whose fields appear in the parent's JSON object */
  inline: boolean;
}

/** A parsed message table. */
export interface MessageSpec {
  name: string;
  /** fields in declaration order (the JSON key order) */
  fields: readonly FieldSpec[];
  byNumber: ReadonlyMap<number, FieldSpec>;
}

/** True if `t` is a leaf type rather than a message name. */
export function isLeaf(t: string): t is Leaf {
  return (leafTypes as readonly string[]).includes(t);
}

/**
 * Parse one field spec: `<json> <type> [omitempty]`, or `- inline <Message>` for an embedded struct.
 * `<type>` is a leaf or message name, optionally prefixed by `*`, `[]` or `map[string]`.
 */
export function parseField(no: number, spec: string, where: string): FieldSpec {
  const parts = spec.trim().split(/\s+/);
  const [json, rawType, flag, extra] = parts;
  if (!json || !rawType || extra !== undefined) throw new Error(`${where} field ${no}: bad spec ${JSON.stringify(spec)}`);
  if (json === '-') {
    if (rawType !== 'inline' || !flag) throw new Error(`${where} field ${no}: embedded struct must be "- inline <Message>"`);
    return { no, json: '', type: flag, shape: 'single', omitempty: false, inline: true };
  }
  if (flag !== undefined && flag !== 'omitempty') throw new Error(`${where} field ${no}: unknown flag ${JSON.stringify(flag)}`);
  let shape: FieldSpec['shape'] = 'single';
  let type = rawType;
  if (type.startsWith('*')) [shape, type] = ['pointer', type.slice(1)];
  else if (type.startsWith('[]') && type !== '[]byte') [shape, type] = ['slice', type.slice(2)];
  else if (type.startsWith('map[string]')) [shape, type] = ['map', type.slice('map[string]'.length)];
  if (type === '[]byte') type = 'bytes';
  return { no, json, type, shape, omitempty: flag === 'omitempty', inline: false };
}

/** Field specs keyed by field number, in the order they should print. */
export type TableSource = Record<string, Array<[number, string]>>;

/** Parse a set of tables, checking that every referenced message exists. */
export function parseTables(src: TableSource): ReadonlyMap<string, MessageSpec> {
  const out = new Map<string, MessageSpec>();
  for (const [name, rows] of Object.entries(src)) {
    const fields = rows.map(([no, spec]) => parseField(no, spec, name));
    const byNumber = new Map<number, FieldSpec>();
    for (const f of fields) {
      if (byNumber.has(f.no)) throw new Error(`${name}: field number ${f.no} used twice`);
      byNumber.set(f.no, f);
    }
    out.set(name, Object.freeze({ name, fields: Object.freeze(fields), byNumber }));
  }
  for (const m of out.values()) {
    for (const f of m.fields) {
      if (!isLeaf(f.type) && !out.has(f.type)) throw new Error(`${m.name}.${f.json || f.type}: unknown message type ${f.type}`);
    }
  }
  return out;
}
