// autoscaling/v2 HorizontalPodAutoscaler: schema, kube's v2 defaults (minReplicas 1, CPU 80% when no
// metric is given, behavior rules completed from kube's scale-up/scale-down defaults), validation with
// kube's messages (pkg/apis/autoscaling/validation) and the table kubectl prints (REFERENCE, TARGETS
// `cpu: 12%/50%`, MINPODS, MAXPODS, REPLICAS, AGE). Only autoscaling/v2 is served: this tree has no
// machinery to serve one kind under two versions with conversion.

import { age } from '../../age.js';
import type { KubeObject } from '../../meta.js';
import { tryParseQuantity } from '../../quantity.js';
import { arr, enm, int, obj, qty, str } from '../../schema/schema.js';
import { type FieldError, Path, asArr, asObj, ensureObj, fieldError, kindSchema, labelSelector, setDefault } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const target = obj({ type: enm('Utilization', 'Value', 'AverageValue'), value: qty, averageValue: qty, averageUtilization: int }, ['type']);
const current = obj({ value: qty, averageValue: qty, averageUtilization: int });
const metricId = obj({ name: str, selector: labelSelector }, ['name']);
const objectRef = obj({ apiVersion: str, kind: str, name: str }, ['kind', 'name']);

/** The metric source types kube knows. */
export const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];

const metricSpec = obj(
  {
    type: enm(...METRIC_TYPES),
    resource: obj({ name: str, target }, ['name', 'target']),
    containerResource: obj({ name: str, container: str, target }, ['name', 'container', 'target']),
    pods: obj({ metric: metricId, target }, ['metric', 'target']),
    object: obj({ describedObject: objectRef, metric: metricId, target }, ['describedObject', 'metric', 'target']),
    external: obj({ metric: metricId, target }, ['metric', 'target']),
  },
  ['type'],
);
const metricStatus = obj({
  type: enm(...METRIC_TYPES),
  resource: obj({ name: str, current }),
  containerResource: obj({ name: str, container: str, current }),
  pods: obj({ metric: metricId, current }),
  object: obj({ describedObject: objectRef, metric: metricId, current }),
  external: obj({ metric: metricId, current }),
});
const policy = obj({ type: enm('Pods', 'Percent'), value: int, periodSeconds: int }, ['type', 'value', 'periodSeconds']);
const rules = obj({ stabilizationWindowSeconds: int, selectPolicy: enm('Max', 'Min', 'Disabled'), policies: arr(policy), tolerance: qty });
const hpaCondition = obj({ type: str, status: enm('True', 'False', 'Unknown'), lastTransitionTime: str, reason: str, message: str }, ['type', 'status']);

const hpaSchema = kindSchema({
  spec: obj(
    {
      scaleTargetRef: objectRef,
      minReplicas: int,
      maxReplicas: int,
      metrics: arr(metricSpec),
      behavior: obj({ scaleUp: rules, scaleDown: rules }),
    },
    ['scaleTargetRef', 'maxReplicas'],
  ),
  status: obj({
    observedGeneration: int,
    lastScaleTime: str,
    currentReplicas: int,
    desiredReplicas: int,
    currentMetrics: arr(metricStatus),
    conditions: arr(hpaCondition),
  }),
}, ['spec']);

// ---------------------------------------------------------------------------------------------
// Defaults (kubernetes pkg/apis/autoscaling/v2/defaults.go)

/** kube's scale-up rules: no stabilization, the larger of 4 pods or 100% every 15 s. */
export const defaultScaleUp = () => ({ stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
/** kube's scale-down rules: 100% every 15 s; the window is the controller's (300 s) unless set. */
export const defaultScaleDown = () => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

function fillRules(r: Record<string, any>, d: Record<string, any>): void {
  for (const k of Object.keys(d)) setDefault(r, k, d[k]);
}

function defaultHpa(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  setDefault(spec, 'minReplicas', 1);
  if (spec.metrics === undefined || spec.metrics === null)
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  const b = asObj(spec.behavior);
  if (b) {
    const up = ensureObj(b, 'scaleUp');
    if (up) fillRules(up, defaultScaleUp());
    const down = ensureObj(b, 'scaleDown');
    if (down) fillRules(down, defaultScaleDown());
  }
}

// ---------------------------------------------------------------------------------------------
// Validation (kubernetes pkg/apis/autoscaling/validation/validation.go)

const positiveQty = (errs: FieldError[], p: Path, v: unknown) => {
  if (v === undefined) return;
  const n = tryParseQuantity(v as string);
  if (n !== undefined && n <= 0) errs.push(fieldError.invalid(p, v, 'must be positive'));
};

function validateTarget(errs: FieldError[], p: Path, t: any): void {
  if (!t) return;
  positiveQty(errs, p.child('value'), t.value);
  positiveQty(errs, p.child('averageValue'), t.averageValue);
  if (typeof t.averageUtilization === 'number' && t.averageUtilization <= 0) errs.push(fieldError.invalid(p.child('averageUtilization'), t.averageUtilization, 'must be greater than 0'));
}

function validateResourceTarget(errs: FieldError[], p: Path, t: any): void {
  if (!t) return;
  validateTarget(errs, p, t);
  if (t.type === 'Value' || t.value !== undefined) errs.push(fieldError.invalid(p.child('type'), t.type, 'must be either Utilization or AverageValue for a resource metric'));
  if (t.averageUtilization === undefined && t.averageValue === undefined) errs.push(fieldError.required(p.child('averageUtilization'), 'must set either a target raw value or a target utilization'));
  if (t.averageUtilization !== undefined && t.averageValue !== undefined) errs.push(fieldError.forbidden(p.child('averageValue'), 'may not set both a target raw value and a target utilization'));
  if (t.type === 'Utilization' && t.averageUtilization === undefined && t.averageValue !== undefined) errs.push(fieldError.required(p.child('averageUtilization'), 'must be set when type is Utilization'));
  if (t.type === 'AverageValue' && t.averageValue === undefined && t.averageUtilization !== undefined) errs.push(fieldError.required(p.child('averageValue'), 'must be set when type is AverageValue'));
}

const sourceField: Record<string, string> = { Resource: 'resource', ContainerResource: 'containerResource', Pods: 'pods', Object: 'object', External: 'external' };

function validateMetric(errs: FieldError[], p: Path, m: any): void {
  const want = sourceField[m.type];
  if (!want) return; // the walk already said NotSupported
  const set = Object.values(sourceField).filter((f) => m[f] !== undefined);
  if (m[want] === undefined) errs.push(fieldError.required(p.child(want), 'must populate information for the given metric source'));
  for (const f of set) if (f !== want) errs.push(fieldError.forbidden(p.child(f), 'must populate the given metric source only'));
  const src = m[want];
  if (!src) return;
  if (m.type === 'Resource' || m.type === 'ContainerResource') {
    if (src.name !== undefined && !['cpu', 'memory'].includes(src.name) && !/^[a-z0-9.-]+\/[a-zA-Z0-9._-]+$/.test(src.name))
      errs.push(fieldError.notSupported(p.child(want, 'name'), src.name, ['cpu', 'memory']));
    validateResourceTarget(errs, p.child(want, 'target'), src.target);
  } else validateTarget(errs, p.child(want, 'target'), src.target);
}

function validateRules(errs: FieldError[], p: Path, r: any): void {
  if (!r) return;
  const w = r.stabilizationWindowSeconds;
  if (typeof w === 'number' && w < 0) errs.push(fieldError.invalid(p.child('stabilizationWindowSeconds'), w, 'must be greater than or equal to zero'));
  if (typeof w === 'number' && w > 3600) errs.push(fieldError.invalid(p.child('stabilizationWindowSeconds'), w, 'must be less than or equal to 3600'));
  const ps = asArr(r.policies);
  if (r.policies !== undefined && ps.length === 0) errs.push(fieldError.required(p.child('policies'), 'must specify at least one Policy'));
  ps.forEach((x: any, i: number) => {
    const pp = p.child('policies').index(i);
    if (typeof x.value === 'number' && x.value <= 0) errs.push(fieldError.invalid(pp.child('value'), x.value, 'must be greater than zero'));
    if (typeof x.periodSeconds === 'number' && x.periodSeconds <= 0) errs.push(fieldError.invalid(pp.child('periodSeconds'), x.periodSeconds, 'must be greater than zero'));
    if (typeof x.periodSeconds === 'number' && x.periodSeconds > 1800) errs.push(fieldError.invalid(pp.child('periodSeconds'), x.periodSeconds, 'must be less than or equal to 1800'));
  });
  if (r.tolerance !== undefined) {
    const t = tryParseQuantity(r.tolerance);
    if (t !== undefined && t < 0) errs.push(fieldError.invalid(p.child('tolerance'), r.tolerance, 'must be greater than or equal to 0'));
  }
}

function validateHpa(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  const spec = o.spec ?? {};
  const ref = spec.scaleTargetRef;
  if (ref) {
    for (const f of ['kind', 'name'] as const) {
      const v = ref[f];
      if (typeof v === 'string' && v === '') errs.push(fieldError.required(p.child('scaleTargetRef', f)));
      else if (typeof v === 'string' && (v.includes('/') || v.includes('%') || v === '.' || v === '..'))
        errs.push(fieldError.invalid(p.child('scaleTargetRef', f), v, "may not contain '/' or '%' and may not be '.' or '..'"));
    }
  }
  const min = spec.minReplicas;
  if (typeof min === 'number' && min < 1) errs.push(fieldError.invalid(p.child('minReplicas'), min, 'must be greater than or equal to 1'));
  const max = spec.maxReplicas;
  if (typeof max === 'number' && max < 1) errs.push(fieldError.invalid(p.child('maxReplicas'), max, 'must be greater than 0'));
  if (typeof max === 'number' && typeof min === 'number' && max < min) errs.push(fieldError.invalid(p.child('maxReplicas'), max, 'must be greater than or equal to `minReplicas`'));
  asArr(spec.metrics).forEach((m: any, i: number) => validateMetric(errs, p.child('metrics').index(i), m));
  validateRules(errs, p.child('behavior', 'scaleUp'), spec.behavior?.scaleUp);
  validateRules(errs, p.child('behavior', 'scaleDown'), spec.behavior?.scaleDown);
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Table (kubernetes pkg/printers/internalversion/printers.go printHorizontalPodAutoscaler)

/** The TARGETS cell: `cpu: 12%/50%`, `memory: 30Mi/100Mi`, `<unknown>` before the first reading. */
export function targetsText(o: KubeObject): string {
  const specs = asArr(o.spec?.metrics);
  const statuses = asArr(o.status?.currentMetrics);
  const list = specs.map((m: any, i: number) => {
    const st = statuses[i];
    const src = m[sourceField[m.type] ?? ''] ?? {};
    const t = src.target ?? {};
    const cur = st?.[sourceField[m.type] ?? '']?.current;
    const label = m.type === 'Resource' ? `${src.name}: ` : m.type === 'ContainerResource' ? `${src.name} of container "${src.container}": ` : m.type === 'Pods' || m.type === 'External' || m.type === 'Object' ? `${src.metric?.name ?? ''}: ` : '';
    if (t.type === 'Utilization' || (t.averageUtilization !== undefined && t.averageValue === undefined)) {
      const c = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
      return `${label}${c}/${t.averageUtilization !== undefined ? `${t.averageUtilization}%` : '<auto>'}`;
    }
    if (t.type === 'Value') return `${label}${cur?.value ?? '<unknown>'}/${t.value}`;
    return `${label}${cur?.averageValue ?? '<unknown>'}/${t.averageValue}${m.type === 'Object' || m.type === 'External' ? ' (avg)' : ''}`;
  });
  if (!list.length) return '<none>';
  const max = 2;
  return list.length > max ? `${list.slice(0, max).join(', ')} + ${list.length - max} more...` : list.join(', ');
}

/** autoscaling/v2 HorizontalPodAutoscaler */
export const horizontalPodAutoscaler = defineKind({
  group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers',
  shortNames: ['hpa'], namespaced: true, categories: ['all'], status: true,
  schema: hpaSchema,
  defaults: defaultHpa,
  semantic: validateHpa,
  columns: [nameCol, col('Reference', 'string', false, 'the target resource'), col('Targets', 'string', false, 'current/target of each metric'), col('MinPods'), col('MaxPods', 'integer'), col('Replicas', 'integer'), ageCol],
  cells: (o, now) => [
    o.metadata.name,
    `${o.spec?.scaleTargetRef?.kind}/${o.spec?.scaleTargetRef?.name}`,
    targetsText(o),
    o.spec?.minReplicas === undefined ? '<unset>' : o.spec.minReplicas,
    o.spec?.maxReplicas,
    o.status?.currentReplicas ?? 0,
    age(o.metadata.creationTimestamp, now),
  ],
});
