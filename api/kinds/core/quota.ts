// core/v1 ResourceQuota and LimitRange, validated as kubernetes' pkg/apis/core/validation: quota and limit
// values are quantities ≥ 0 under valid resource names; a LimitRange item needs a type (Pod, Container,
// PersistentVolumeClaim), Pod items take no default/defaultRequest, and per resource min ≤ defaultRequest ≤
// default ≤ max with kube's messages (`min value 2 is greater than max value 1`). Enforcement is the API
// server's admission (control-plane/apiserver/admission/quota.ts, limit-range.ts).

import { age } from '../../age.js';
import { tryParseQuantity } from '../../quantity.js';
import { arr, map, obj, str, any } from '../../schema/schema.js';
import { type FieldError, Path, asArr, asObj, fieldError, kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const resourceNameRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Every entry of a ResourceList: a valid name and a non-negative quantity. */
function validateResourceList(m: unknown, p: Path, errs: FieldError[]): void {
  for (const [k, v] of Object.entries(asObj(m) ?? {})) {
    if (!resourceNameRe.test(k)) errs.push(fieldError.invalid(p.key(k), k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    const q = typeof v === 'string' || typeof v === 'number' ? tryParseQuantity(v) : undefined;
    if (q === undefined) errs.push(fieldError.invalid(p.key(k), v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    else if (q < 0) errs.push(fieldError.invalid(p.key(k), String(v), 'must be greater than or equal to 0'));
  }
}

const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'];

/** core/v1 ResourceQuota */
export const resourceQuota = defineKind({
  group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', shortNames: ['quota'], namespaced: true, status: true,
  schema: kindSchema({ spec: obj({ hard: map(any), scopes: arr(str), scopeSelector: any }), status: obj({ hard: map(any), used: map(any) }) }),
  semantic(o) {
    const errs: FieldError[] = [];
    validateResourceList(o.spec?.hard, Path.root('spec').child('hard'), errs);
    asArr(o.spec?.scopes).forEach((s, i) => {
      if (!QUOTA_SCOPES.includes(s)) errs.push(fieldError.notSupported(Path.root('spec').child('scopes').index(i), s, QUOTA_SCOPES));
    });
    validateResourceList(o.status?.hard, Path.root('status').child('hard'), errs);
    validateResourceList(o.status?.used, Path.root('status').child('used'), errs);
    return errs;
  },
  columns: [nameCol, ageCol, col('Request'), col('Limit')],
  cells(o, now) {
    const hard = o.status?.hard ?? o.spec?.hard ?? {};
    const used = o.status?.used ?? {};
    const pairs = (f: (k: string) => boolean) => Object.keys(hard).filter(f).sort().map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`).join(', ');
    return [o.metadata.name, age(o.metadata.creationTimestamp, now), pairs((k) => !k.startsWith('limits.')), pairs((k) => k.startsWith('limits.'))];
  },
});

const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];
const limitItem = obj({ type: str, max: map(any), min: map(any), default: map(any), defaultRequest: map(any), maxLimitRequestRatio: map(any) }, ['type']);

function validateLimitItem(item: any, p: Path, errs: FieldError[]): void {
  if (!LIMIT_TYPES.includes(item.type) && !String(item.type ?? '').includes('/')) errs.push(fieldError.notSupported(p.child('type'), item.type, LIMIT_TYPES));
  for (const f of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) validateResourceList(item[f], p.child(f), errs);
  if (item.type === 'Pod') {
    if (Object.keys(item.default ?? {}).length) errs.push(fieldError.forbidden(p.child('default'), 'may not be specified when `type` is \'Pod\''));
    if (Object.keys(item.defaultRequest ?? {}).length) errs.push(fieldError.forbidden(p.child('defaultRequest'), 'may not be specified when `type` is \'Pod\''));
  }
  const q = (m: any, k: string) => (m && m[k] !== undefined ? tryParseQuantity(m[k]) : undefined);
  const keys = new Set(['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'].flatMap((f) => Object.keys(item[f] ?? {})));
  for (const k of keys) {
    const [mn, mx, def, req, ratio] = [q(item.min, k), q(item.max, k), q(item.default, k), q(item.defaultRequest, k), q(item.maxLimitRequestRatio, k)];
    const s = (m: any) => String(m[k]);
    if (mn !== undefined && mx !== undefined && mn > mx) errs.push(fieldError.invalid(p.child('min').key(k), s(item.min), `min value ${s(item.min)} is greater than max value ${s(item.max)}`));
    if (req !== undefined && mn !== undefined && mn > req) errs.push(fieldError.invalid(p.child('defaultRequest').key(k), s(item.defaultRequest), `min value ${s(item.min)} is greater than default request value ${s(item.defaultRequest)}`));
    if (req !== undefined && mx !== undefined && req > mx) errs.push(fieldError.invalid(p.child('defaultRequest').key(k), s(item.defaultRequest), `default request value ${s(item.defaultRequest)} is greater than max value ${s(item.max)}`));
    if (req !== undefined && def !== undefined && req > def) errs.push(fieldError.invalid(p.child('defaultRequest').key(k), s(item.defaultRequest), `default request value ${s(item.defaultRequest)} is greater than default limit value ${s(item.default)}`));
    if (def !== undefined && mn !== undefined && mn > def) errs.push(fieldError.invalid(p.child('default').key(k), s(item.min), `min value ${s(item.min)} is greater than default value ${s(item.default)}`));
    if (def !== undefined && mx !== undefined && def > mx) errs.push(fieldError.invalid(p.child('default').key(k), s(item.max), `default value ${s(item.default)} is greater than max value ${s(item.max)}`));
    if (ratio !== undefined && ratio < 1) errs.push(fieldError.invalid(p.child('maxLimitRequestRatio').key(k), s(item.maxLimitRequestRatio), `ratio ${s(item.maxLimitRequestRatio)} is less than 1`));
    if (ratio !== undefined && mn !== undefined && mx !== undefined && mn > 0 && ratio > mx / mn)
      errs.push(fieldError.invalid(p.child('maxLimitRequestRatio').key(k), s(item.maxLimitRequestRatio), `ratio ${s(item.maxLimitRequestRatio)} is greater than max/min = ${(mx / mn).toFixed(6)}`));
  }
}

/** core/v1 LimitRange */
export const limitRange = defineKind({
  group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', shortNames: ['limits'], namespaced: true,
  schema: kindSchema({ spec: obj({ limits: arr(limitItem) }, ['limits']) }, ['spec']),
  // SetDefaults_LimitRangeItem: a Container item's default limit falls back to max, its default request to
  // the default limit, then to min
  defaults(o) {
    for (const item of asArr(asObj(o.spec)?.limits)) {
      const it = asObj(item);
      if (!it || it.type !== 'Container') continue;
      for (const [k, v] of Object.entries(asObj(it.max) ?? {})) if (asObj(it.default)?.[k] === undefined) (it.default ??= {})[k] = v;
      for (const [k, v] of Object.entries(asObj(it.default) ?? {})) if (asObj(it.defaultRequest)?.[k] === undefined) (it.defaultRequest ??= {})[k] = v;
      for (const [k, v] of Object.entries(asObj(it.min) ?? {})) if (asObj(it.defaultRequest)?.[k] === undefined) (it.defaultRequest ??= {})[k] = v;
    }
  },
  semantic(o) {
    const errs: FieldError[] = [];
    asArr(o.spec?.limits).forEach((item, i) => validateLimitItem(item, Path.root('spec').child('limits').index(i), errs));
    return errs;
  },
  columns: [nameCol, col('Created At')],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
});
