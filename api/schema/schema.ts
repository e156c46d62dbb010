// The schema language: each kind's shape is plain data built from these constructors at module load,
// then walked by walk.ts on every write. No per-call compilation: an object schema keeps its fields in
// a null-prototype record and its required list as an array, so the walker only does lookups.

/** A node of the schema tree. `t` says what JSON value is allowed at this point. */
export type Schema =
  | ObjectSchema
  | ArraySchema
  | MapSchema
  | { readonly t: 'string' }
  | { readonly t: 'int' }
  | { readonly t: 'number' }
  | { readonly t: 'bool' }
  | { readonly t: 'intOrString' }
  | { readonly t: 'quantity' }
  | EnumSchema
  | { readonly t: 'any' };

/** An object with declared fields; any other key is an error. */
export interface ObjectSchema {
  readonly t: 'object';
  readonly fields: Readonly<Record<string, Schema>>;
  readonly required: readonly string[];
}

/** A JSON array whose items all follow `items`. */
export interface ArraySchema {
  readonly t: 'array';
  readonly items: Schema;
}

/** A JSON object with free keys and values of one schema (`map[string]T`). */
export interface MapSchema {
  readonly t: 'map';
  readonly values: Schema;
}

/** A string from a closed set. */
export interface EnumSchema {
  readonly t: 'enum';
  readonly values: readonly string[];
  readonly set: ReadonlySet<string>;
}

/** Any string. */
export const str: Schema = { t: 'string' };
/** A whole number (JSON number with no fraction). */
export const int: Schema = { t: 'int' };
/** Any JSON number. */
export const num: Schema = { t: 'number' };
/** true or false. */
export const bool: Schema = { t: 'bool' };
/** An integer or a string (IntOrString: ports by name, `25%`). */
export const intOrStr: Schema = { t: 'intOrString' };
/** A resource quantity: a number or a string such as `100m`, `1Gi` (checked by api/quantity.ts). */
export const qty: Schema = { t: 'quantity' };
/** Any JSON value (free-form object, RawExtension, Struct). */
export const any: Schema = { t: 'any' };

/** An object with the given fields; `required` lists fields that must be present and non-null. */
export function obj(fields: Record<string, Schema>, required: readonly string[] = []): ObjectSchema {
  const f: Record<string, Schema> = Object.create(null);
  for (const [k, v] of Object.entries(fields)) f[k] = v;
  for (const r of required) if (!(r in f)) throw new Error(`schema: required field ${r} is not declared`);
  return { t: 'object', fields: f, required };
}

/** Extend an object schema with more fields (and more required names). */
export function extend(base: ObjectSchema, fields: Record<string, Schema>, required: readonly string[] = []): ObjectSchema {
  return obj({ ...base.fields, ...fields }, [...base.required, ...required]);
}

/** An array of `items`. */
export function arr(items: Schema): ArraySchema {
  return { t: 'array', items };
}

/** A string-keyed map of `values` (default: string values, like labels). */
export function map(values: Schema = str): MapSchema {
  return { t: 'map', values };
}

/** A string that must be one of `values`. */
export function enm(...values: string[]): EnumSchema {
  return { t: 'enum', values, set: new Set(values) };
}
