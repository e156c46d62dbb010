// core/v1 Secret, ConfigMap and ServiceAccount: key syntax, the `immutable: true` rule, Secret type
// defaults (Opaque) and type-specific required keys, and their kubectl tables.

import { age } from '../../age.js';
import { arr, bool, map, obj, str } from '../../schema/schema.js';
import { type FieldError, Path, asArr, fieldError, kindSchema, setDefault } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const keyRe = /^[-._a-zA-Z0-9]+$/;
const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function validateKeys(errs: FieldError[], path: Path, m: Record<string, unknown> | undefined, seen: Set<string>): void {
  for (const k of Object.keys(m ?? {})) {
    if (k.length > 253 || !keyRe.test(k) || k === '.' || k === '..' || k.startsWith('..'))
      errs.push(fieldError.invalid(path, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    if (seen.has(k)) errs.push(fieldError.invalid(path, k, 'duplicate of key present in other data field'));
    seen.add(k);
  }
}

function immutableData(errs: FieldError[], o: any, old: any, fields: string[]): void {
  if (old?.immutable === true) {
    if (o.immutable !== true) errs.push(fieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
    for (const f of fields)
      if (JSON.stringify(o[f] ?? {}) !== JSON.stringify(old[f] ?? {})) errs.push(fieldError.forbidden(f, 'field is immutable when `immutable` is set'));
  }
}

const secretRequiredKeys: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/basic-auth': [],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

/** core/v1 Secret */
export const secret = defineKind({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  schema: kindSchema({ data: map(), stringData: map(), type: str, immutable: bool }),
  defaults(o) {
    setDefault(o, 'type', 'Opaque');
  },
  semantic(o, old) {
    const errs: FieldError[] = [];
    const seen = new Set<string>();
    validateKeys(errs, Path.root('data'), o.data, new Set());
    validateKeys(errs, Path.root('stringData'), o.stringData, seen);
    for (const [k, v] of Object.entries(o.data ?? {}))
      if (typeof v === 'string' && !base64Re.test(v)) errs.push(fieldError.invalid(Path.root('data').key(k), '<secret contents redacted>', 'must be base64-encoded'));
    const need = secretRequiredKeys[o.type] ?? [];
    for (const k of need)
      if (!(k in (o.data ?? {})) && !(k in (o.stringData ?? {}))) errs.push(fieldError.required(Path.root('data').key(k)));
    if (o.type === 'kubernetes.io/service-account-token' && !o.metadata?.annotations?.['kubernetes.io/service-account.name'])
      errs.push(fieldError.required(Path.root('metadata').child('annotations').key('kubernetes.io/service-account.name')));
    if (old && old.type !== o.type) errs.push(fieldError.invalid('type', o.type, 'field is immutable'));
    immutableData(errs, o, old, ['data']);
    return errs;
  },
  columns: [nameCol, col('Type'), col('Data'), ageCol],
  cells: (o, now) => [o.metadata.name, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, age(o.metadata.creationTimestamp, now)],
});

/** core/v1 ConfigMap */
export const configMap = defineKind({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  shortNames: ['cm'],
  namespaced: true,
  schema: kindSchema({ data: map(), binaryData: map(), immutable: bool }),
  semantic(o, old) {
    const errs: FieldError[] = [];
    const seen = new Set<string>();
    validateKeys(errs, Path.root('data'), o.data, seen);
    validateKeys(errs, Path.root('binaryData'), o.binaryData, seen);
    for (const [k, v] of Object.entries(o.binaryData ?? {}))
      if (typeof v === 'string' && !base64Re.test(v)) errs.push(fieldError.invalid(Path.root('binaryData').key(k), v, 'must be base64-encoded'));
    let size = 0;
    for (const v of Object.values(o.data ?? {})) size += typeof v === 'string' ? v.length : 0;
    for (const v of Object.values(o.binaryData ?? {})) size += typeof v === 'string' ? v.length : 0;
    if (size > 1024 * 1024) errs.push(fieldError.tooLong('', '', 1024 * 1024));
    immutableData(errs, o, old, ['data', 'binaryData']);
    return errs;
  },
  columns: [nameCol, col('Data'), ageCol],
  cells: (o, now) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o.metadata.creationTimestamp, now)],
});

/** core/v1 ServiceAccount */
export const serviceAccount = defineKind({
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  shortNames: ['sa'],
  namespaced: true,
  schema: kindSchema({
    secrets: arr(obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str })),
    imagePullSecrets: arr(obj({ name: str })),
    automountServiceAccountToken: bool,
  }),
  semantic(o) {
    const errs: FieldError[] = [];
    asArr(o.imagePullSecrets).forEach((s: any, i: number) => {
      if (!s.name) errs.push(fieldError.required(Path.root('imagePullSecrets').index(i).child('name')));
    });
    return errs;
  },
  columns: [nameCol, col('Secrets'), ageCol],
  cells: (o, now) => [o.metadata.name, asArr(o.secrets).length, age(o.metadata.creationTimestamp, now)],
});
