// shoal.io/v1alpha1 Canary: a progressive release of one Deployment, as Flagger's Canary but smaller.
// The spec names the Deployment, the new image, the traffic steps and the analysis thresholds; the
// controller (control-plane/controllers/canary) writes the status: the phase, the canary's weight, the
// last analysis and conditions. Percent and duration fields are strings as users type them on the CLI
// (`1%`, `500ms`, `30s`), parsed here once (parsePercent / parseDuration) for validation and the controller.

import { age } from '../../age.js';
import type { KubeObject } from '../../meta.js';
import { parseDuration } from '../../../lib/time/duration.js';
import { arr, bool, enm, int, num, obj, str } from '../../schema/schema.js';
import { type FieldError, Path, asObj, condition, ensureObj, fieldError, kindSchema, setDefault } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

/** The phases a Canary goes through (Flagger's names). */
export const CANARY_PHASES = ['Initializing', 'Progressing', 'Promoting', 'Succeeded', 'RollingBack', 'Failed'] as const;
/** A Canary's phase. */
export type CanaryPhase = (typeof CANARY_PHASES)[number];

/** The defaults the CLI and the API share. */
export const CANARY_DEFAULTS = { steps: [10, 25, 50, 100], interval: '30s', maxErrorRate: '1%', maxP99: '500ms', minRequests: 10, canaryVersion: 'canary' };

/** `1%`, `0.5%`, `2` (percent) → a fraction 0..1; undefined when malformed or out of range. */
export function parsePercent(s: unknown): number | undefined {
  if (typeof s !== 'string' && typeof s !== 'number') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(s));
  if (!m) return undefined;
  const v = Number(m[1]) / 100;
  return v <= 1 ? v : undefined;
}

const ref = obj({ kind: enm('VirtualService', 'HTTPRoute'), name: str }, ['kind', 'name']);

const canarySchema = kindSchema({
  spec: obj(
    {
      targetRef: obj({ apiVersion: str, kind: enm('Deployment'), name: str }, ['name']),
      image: str,
      container: str,
      steps: arr(int),
      interval: str,
      maxErrorRate: str,
      maxP99: str,
      minRequests: int,
      service: str,
      routeRef: ref,
      canaryVersion: str,
    },
    ['targetRef', 'image'],
  ),
  status: obj({
    observedGeneration: int,
    phase: enm(...CANARY_PHASES),
    canaryWeight: int,
    stepIndex: int,
    lastTransitionTime: str,
    stepStartedAt: str,
    drainStartedAt: str,
    message: str,
    paused: bool,
    routeRef: ref,
    primarySubset: str,
    canarySubset: str,
    appliedWeights: obj({ primary: int, canary: int }),
    previousImage: str,
    createdRoute: bool,
    service: str,
    lastAnalysis: obj({ requests: int, errorRate: num, p99Ms: num, at: str, verdict: str }),
    conditions: arr(condition),
  }),
}, ['spec']);

function defaultCanary(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  setDefault(spec, 'steps', [...CANARY_DEFAULTS.steps]);
  setDefault(spec, 'interval', CANARY_DEFAULTS.interval);
  setDefault(spec, 'maxErrorRate', CANARY_DEFAULTS.maxErrorRate);
  setDefault(spec, 'maxP99', CANARY_DEFAULTS.maxP99);
  setDefault(spec, 'minRequests', CANARY_DEFAULTS.minRequests);
  setDefault(spec, 'canaryVersion', CANARY_DEFAULTS.canaryVersion);
  const t = asObj(spec.targetRef);
  if (t) {
    setDefault(t, 'apiVersion', 'apps/v1');
    setDefault(t, 'kind', 'Deployment');
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function validateCanary(o: KubeObject, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  const s = o.spec ?? {};
  const name = s.targetRef?.name;
  if (typeof name === 'string' && !DNS_LABEL.test(name)) errs.push(fieldError.invalid(p.child('targetRef', 'name'), name, 'must be a Deployment name (a lowercase RFC 1123 label)'));
  if (typeof name === 'string' && name.length > 56) errs.push(fieldError.invalid(p.child('targetRef', 'name'), name, 'must be no more than 56 characters (the canary Deployment is named <name>-canary)'));
  if (s.targetRef?.apiVersion !== undefined && s.targetRef.apiVersion !== 'apps/v1') errs.push(fieldError.notSupported(p.child('targetRef', 'apiVersion'), s.targetRef.apiVersion, ['apps/v1']));
  if (typeof s.image === 'string' && !s.image.trim()) errs.push(fieldError.required(p.child('image'), 'the new image is required'));
  const steps: unknown[] = Array.isArray(s.steps) ? s.steps : [];
  if (Array.isArray(s.steps) && !steps.length) errs.push(fieldError.required(p.child('steps'), 'must have at least one step'));
  steps.forEach((w, i) => {
    if (typeof w !== 'number') return;
    if (w < 1 || w > 100) errs.push(fieldError.invalid(p.child('steps').index(i), w, 'must be between 1 and 100'));
    else if (i > 0 && typeof steps[i - 1] === 'number' && w <= (steps[i - 1] as number)) errs.push(fieldError.invalid(p.child('steps').index(i), w, 'must be greater than the step before it'));
  });
  if (steps.length && steps[steps.length - 1] !== 100) errs.push(fieldError.invalid(p.child('steps').index(steps.length - 1), steps[steps.length - 1], 'the last step must be 100 (the canary takes all traffic before it is promoted)'));
  if (s.interval !== undefined) {
    const ms = parseDuration(s.interval);
    if (ms === undefined || ms < 1000) errs.push(fieldError.invalid(p.child('interval'), s.interval, 'must be a duration of at least 1s, like 30s or 1m'));
  }
  if (s.maxErrorRate !== undefined && parsePercent(s.maxErrorRate) === undefined) errs.push(fieldError.invalid(p.child('maxErrorRate'), s.maxErrorRate, "must be a percentage between 0% and 100%, like '1%'"));
  if (s.maxP99 !== undefined) {
    const ms = parseDuration(s.maxP99);
    if (ms === undefined || ms <= 0) errs.push(fieldError.invalid(p.child('maxP99'), s.maxP99, 'must be a positive duration, like 500ms'));
  }
  if (typeof s.minRequests === 'number' && s.minRequests < 1) errs.push(fieldError.invalid(p.child('minRequests'), s.minRequests, 'must be greater than 0'));
  if (typeof s.service === 'string' && !DNS_LABEL.test(s.service)) errs.push(fieldError.invalid(p.child('service'), s.service, 'must be a Service name (a lowercase RFC 1123 label)'));
  if (typeof s.canaryVersion === 'string' && (!s.canaryVersion || !LABEL_VALUE.test(s.canaryVersion) || s.canaryVersion.length > 63))
    errs.push(fieldError.invalid(p.child('canaryVersion'), s.canaryVersion, 'must be a valid label value (the canary pods\' `version` label)'));
  if (old && old.spec?.targetRef?.name !== undefined && s.targetRef?.name !== old.spec.targetRef.name)
    errs.push(fieldError.invalid(p.child('targetRef', 'name'), s.targetRef?.name, 'field is immutable'));
  return errs;
}

/** shoal.io/v1alpha1 Canary */
export const canary = defineKind({
  group: 'shoal.io', version: 'v1alpha1', kind: 'Canary', plural: 'canaries',
  shortNames: ['canary'], namespaced: true, status: true,
  schema: canarySchema,
  defaults: defaultCanary,
  semantic: validateCanary,
  columns: [nameCol, col('Target'), col('Status'), col('Weight', 'integer'), col('Image'), col('Message', 'string', true), col('LastTransitionTime', 'string', true), ageCol],
  cells: (o, now) => [
    o.metadata.name,
    `Deployment/${o.spec?.targetRef?.name ?? ''}`,
    o.status?.phase ?? 'Initializing',
    o.status?.canaryWeight ?? 0,
    o.spec?.image ?? '',
    o.status?.message ?? '',
    o.status?.lastTransitionTime ?? '',
    age(o.metadata.creationTimestamp, now),
  ],
  docs: {
    spec: 'A progressive release: the canary Deployment runs spec.image, weight shifts step by step, analysis decides.',
    'spec.targetRef': 'the Deployment to release (apps/v1)',
    'spec.image': 'the new image; the canary Deployment runs it, and the primary gets it on promotion',
    'spec.container': "the container to change (default: the first one that is not istio-proxy)",
    'spec.steps': 'canary weights in percent, increasing, ending at 100 (default 10,25,50,100)',
    'spec.interval': 'time at each step before the analysis (default 30s)',
    'spec.maxErrorRate': "highest share of the canary's requests that may fail (5xx or no response) in a step (default 1%)",
    'spec.maxP99': "highest 99th percentile latency of the canary's requests in a step (default 500ms)",
    'spec.minRequests': 'requests the canary must have served in a step before it is judged (default 10); fewer: the step waits',
    'spec.service': "the Service in front of the Deployment (default: the one whose selector picks the Deployment's pods)",
    'spec.routeRef': 'the VirtualService or HTTPRoute to shift weight in (default: the one routing the Service)',
    'spec.canaryVersion': "the canary pods' `version` label, which the canary subset selects (default canary)",
    status: 'phase, canaryWeight, the last analysis, conditions; written by the canary controller',
  },
});
