// batch/v1 Job: schema field for field with k8s.io/api batch/v1 (1.32), SetDefaults_Job, the selector
// the API server generates on create (jobStrategy.PrepareForCreate: `batch.kubernetes.io/controller-uid`
// and `job-name` labels, legacy unprefixed twins), ValidateJob/ValidateJobUpdate (restartPolicy
// OnFailure|Never, podFailurePolicy rules, Indexed mode limits, immutable fields), and kubectl's table.

import { age } from '../../age.js';
import { fromLabelSelector, matches, toString as selectorString, validateLabelSelector } from '../../labels.js';
import type { KubeObject } from '../../meta.js';
import { dns1123Label, qualifiedName } from '../../validation/names.js';
import { arr, bool, enm, int, obj, str } from '../../schema/schema.js';
import {
  type FieldError,
  Path,
  asArr,
  asObj,
  deepEqual,
  ensureObj,
  fieldError,
  immutable,
  kindSchema,
  labelSelector,
  nonNegative,
  setDefault,
} from '../common.js';
import { podTemplateSpec } from '../core/pod-schema.js';
import { defaultPodTemplate, validatePodSpec } from '../core/pod-spec.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

/** Labels the API server puts on a Job's pod template (and the controller on its pods). */
export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
  completionIndex: 'batch.kubernetes.io/job-completion-index',
} as const;

const podFailurePolicyRule = obj({
  action: str, // checked by semantic() for kube's Required/NotSupported texts
  onExitCodes: obj({ containerName: str, operator: str, values: arr(int) }),
  onPodConditions: arr(obj({ type: str, status: str })),
});

/** batch/v1 JobSpec (also the spec of a CronJob's jobTemplate). */
export const jobSpecSchema = obj(
  {
    parallelism: int,
    completions: int,
    activeDeadlineSeconds: int,
    podFailurePolicy: obj({ rules: arr(podFailurePolicyRule) }, ['rules']),
    successPolicy: obj({ rules: arr(obj({ succeededIndexes: str, succeededCount: int })) }),
    backoffLimit: int,
    backoffLimitPerIndex: int,
    maxFailedIndexes: int,
    selector: labelSelector,
    manualSelector: bool,
    template: podTemplateSpec,
    ttlSecondsAfterFinished: int,
    completionMode: str,
    suspend: bool,
    podReplacementPolicy: str,
    managedBy: str,
  },
  ['template'],
);

const jobCondition = obj({ type: str, status: enm('True', 'False', 'Unknown'), lastProbeTime: str, lastTransitionTime: str, reason: str, message: str });

const jobStatusSchema = obj({
  conditions: arr(jobCondition),
  startTime: str,
  completionTime: str,
  active: int,
  succeeded: int,
  failed: int,
  terminating: int,
  completedIndexes: str,
  failedIndexes: str,
  uncountedTerminatedPods: obj({ succeeded: arr(str), failed: arr(str) }),
  ready: int,
});

// ---------------------------------------------------------------------------------------------
// Defaults

/** SetDefaults_Job's spec part (not the selector; a CronJob's jobTemplate gets only the pod defaults). */
function defaultJobSpec(spec: Record<string, any>): void {
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex != null ? 2147483647 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  const pfp = asObj(spec.podFailurePolicy);
  for (const r of asArr(pfp?.rules)) for (const c of asArr(asObj(r)?.onPodConditions)) if (asObj(c)) setDefault(c, 'status', 'True');
  setDefault(spec, 'podReplacementPolicy', pfp ? 'Failed' : 'TerminatingOrFailed');
  setDefault(spec, 'manualSelector', false);
}

/**
 * The selector the API server generates (generateSelector): the template gets `controller-uid` and
 * `job-name` labels (prefixed and legacy), the selector matches the prefixed uid. Needs metadata.uid,
 * which the API server sets before admission.
 */
function generateSelector(o: KubeObject, spec: Record<string, any>): void {
  const uid = o.metadata?.uid;
  if (spec.manualSelector === true || typeof uid !== 'string' || !uid) return;
  if (spec.selector != null) return; // given, or generated before: validation checks it
  const tpl = ensureObj(spec, 'template');
  const md = tpl && ensureObj(tpl, 'metadata');
  const labels = md && ensureObj(md, 'labels');
  if (!labels) return;
  for (const k of [JOB_LABELS.legacyJobName, JOB_LABELS.jobName]) setDefault(labels, k, o.metadata.name);
  for (const k of [JOB_LABELS.legacyControllerUid, JOB_LABELS.controllerUid]) setDefault(labels, k, uid);
  spec.selector = { matchLabels: { [JOB_LABELS.controllerUid]: uid } };
}

function defaultJob(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  defaultJobSpec(spec);
  defaultPodTemplate(spec.template);
  generateSelector(o, spec);
  const tplLabels = asObj(asObj(asObj(spec.template)?.metadata)?.labels);
  const md = asObj(o.metadata);
  if (md && tplLabels && Object.keys(tplLabels).length && Object.keys(asObj(md.labels) ?? {}).length === 0) md.labels = { ...tplLabels };
}

// ---------------------------------------------------------------------------------------------
// Validation

const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const OPERATORS = ['In', 'NotIn'];
const COND_STATUS = ['False', 'True', 'Unknown'];

function validatePodFailurePolicy(errs: FieldError[], spec: any, p: Path): void {
  const rules = asArr(spec.podFailurePolicy?.rules);
  const rp = p.child('rules');
  if (rules.length > 20) errs.push(fieldError.tooMany(rp, rules.length, 20));
  const names = new Set<string>([...asArr(spec.template?.spec?.containers), ...asArr(spec.template?.spec?.initContainers)].map((c: any) => c?.name));
  rules.forEach((r: any, i: number) => {
    const ip = rp.index(i);
    const ap = ip.child('action');
    if (!r.action) errs.push(fieldError.required(ap, `valid values: [${ACTIONS.map((a) => JSON.stringify(a)).join(' ')}]`));
    else if (r.action === 'FailIndex') {
      if (spec.backoffLimitPerIndex == null) errs.push(fieldError.invalid(ap, r.action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!ACTIONS.includes(r.action)) errs.push(fieldError.notSupported(ap, r.action, ACTIONS));
    const ec = r.onExitCodes;
    if (ec) {
      const ep = ip.child('onExitCodes');
      if (!ec.operator) errs.push(fieldError.required(ep.child('operator'), `valid values: [${OPERATORS.map((a) => JSON.stringify(a)).join(' ')}]`));
      else if (!OPERATORS.includes(ec.operator)) errs.push(fieldError.notSupported(ep.child('operator'), ec.operator, OPERATORS));
      if (ec.containerName != null && !names.has(ec.containerName))
        errs.push(fieldError.invalid(ep.child('containerName'), ec.containerName, 'must be one of the container or initContainer names in the pod template'));
      const values: number[] = asArr(ec.values);
      const vp = ep.child('values');
      if (values.length === 0) errs.push(fieldError.invalid(vp, values, 'at least one value is required'));
      else if (values.length > 255) errs.push(fieldError.tooMany(vp, values.length, 255));
      const seen = new Set<number>();
      let ordered = true;
      values.forEach((v, j) => {
        if (ec.operator === 'In' && v === 0) errs.push(fieldError.invalid(vp.index(j), v, 'must not be 0 for the In operator'));
        if (seen.has(v)) errs.push(fieldError.duplicate(vp.index(j), v));
        else seen.add(v);
        if (j > 0 && values[j - 1]! > v) ordered = false;
      });
      if (!ordered) errs.push(fieldError.invalid(vp, values, 'must be ordered'));
    }
    const conds = asArr(r.onPodConditions);
    if (conds.length > 20) errs.push(fieldError.tooMany(ip.child('onPodConditions'), conds.length, 20));
    conds.forEach((c: any, j: number) => {
      const cp = ip.child('onPodConditions').index(j);
      for (const m of qualifiedName(String(c.type ?? ''))) errs.push(fieldError.invalid(cp.child('type'), c.type ?? '', m));
      if (!c.status) errs.push(fieldError.required(cp.child('status'), `valid values: [${COND_STATUS.map((a) => JSON.stringify(a)).join(' ')}]`));
      else if (!COND_STATUS.includes(c.status)) errs.push(fieldError.notSupported(cp.child('status'), c.status, COND_STATUS));
    });
    if (ec && conds.length) errs.push(fieldError.invalid(ip, '', 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!ec && conds.length === 0) errs.push(fieldError.invalid(ip, '', 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
}

/** validateJobSpec: what a Job and a CronJob's jobTemplate share. */
export function validateJobSpecCommon(spec: any, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes'])
    nonNegative(errs, p.child(f), spec[f]);
  if (spec.maxFailedIndexes != null && spec.backoffLimitPerIndex == null)
    errs.push(fieldError.required(p.child('backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  if (typeof spec.managedBy === 'string' && spec.managedBy.length > 63) errs.push(fieldError.tooLong(p.child('managedBy'), spec.managedBy, 63));
  const mode = spec.completionMode;
  if (mode != null && mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(fieldError.notSupported(p.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (spec.completions == null) errs.push(fieldError.required(p.child('completions'), 'when completion mode is Indexed'));
    if (typeof spec.parallelism === 'number' && spec.parallelism > 100000)
      errs.push(fieldError.invalid(p.child('parallelism'), spec.parallelism, 'must be less than or equal to 100000 when completion mode is Indexed'));
    if (spec.completions != null && spec.maxFailedIndexes != null && spec.maxFailedIndexes > spec.completions)
      errs.push(fieldError.invalid(p.child('maxFailedIndexes'), spec.maxFailedIndexes, 'must be less than or equal to completions'));
  } else {
    if (spec.backoffLimitPerIndex != null) errs.push(fieldError.invalid(p.child('backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (spec.maxFailedIndexes != null) errs.push(fieldError.invalid(p.child('maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
    if (spec.successPolicy != null) errs.push(fieldError.invalid(p.child('successPolicy'), 'object', 'requires indexed completion mode'));
  }
  if (spec.podFailurePolicy) validatePodFailurePolicy(errs, spec, p.child('podFailurePolicy'));
  const rpp = spec.podReplacementPolicy;
  if (rpp != null) {
    if (spec.podFailurePolicy) {
      if (rpp !== 'Failed') errs.push(fieldError.notSupported(p.child('podReplacementPolicy'), rpp, ['Failed']));
    } else if (rpp !== 'Failed' && rpp !== 'TerminatingOrFailed') errs.push(fieldError.notSupported(p.child('podReplacementPolicy'), rpp, ['Failed', 'TerminatingOrFailed']));
  }
  const tp = p.child('template');
  errs.push(...validatePodSpec(spec.template?.spec, tp.child('spec')));
  const rp = spec.template?.spec?.restartPolicy;
  const rpPath = tp.child('spec', 'restartPolicy');
  if (rp === 'Always' || rp == null || rp === '') errs.push(fieldError.required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push(fieldError.notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy && rp !== 'Never') errs.push(fieldError.invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

function selectorOf(sel: unknown): ReturnType<typeof fromLabelSelector> | undefined {
  try {
    return fromLabelSelector(sel as never);
  } catch {
    return undefined;
  }
}

function validateJob(o: KubeObject, old?: KubeObject): FieldError[] {
  const p = Path.root('spec');
  const spec = o.spec ?? {};
  const errs: FieldError[] = [];
  const uid = o.metadata.uid;
  const name = o.metadata.name ?? '';
  // validateGeneratedSelector
  if (spec.manualSelector !== true && spec.selector) {
    if (!uid) errs.push(fieldError.required('metadata.uid'));
    const labels = spec.template?.metadata?.labels ?? {};
    const tmd = p.child('template', 'metadata');
    const want: Record<string, string> = {
      [JOB_LABELS.legacyControllerUid]: uid ?? '', [JOB_LABELS.legacyJobName]: name,
      [JOB_LABELS.controllerUid]: uid ?? '', [JOB_LABELS.jobName]: name,
    };
    for (const [k, v] of Object.entries(want)) {
      if (labels[k] === undefined) errs.push(fieldError.required(tmd.child('labels').key(k), `must be '${v}'`));
      else if (labels[k] !== v) errs.push(fieldError.invalid(tmd.child('labels').key(k), labels[k], `must be '${v}'`));
    }
    const s = selectorOf(spec.selector);
    if (s && !matches(s, want)) errs.push(fieldError.invalid(p.child('selector'), 'object', '`selector` not auto-generated'));
  }
  errs.push(...validateJobSpecCommon(spec, p));
  if (!spec.selector) errs.push(fieldError.required(p.child('selector')));
  else {
    errs.push(...validateLabelSelector(spec.selector, p.child('selector')));
    const s = selectorOf(spec.selector);
    if (s && !matches(s, spec.template?.metadata?.labels ?? {}))
      errs.push(fieldError.invalid(p.child('template', 'metadata', 'labels'), spec.template?.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  if (spec.completionMode === 'Indexed' && typeof spec.completions === 'number' && spec.completions > 0) {
    const host = `${name}-${spec.completions - 1}`;
    if (dns1123Label(host).length) errs.push(fieldError.invalid('metadata.name', name, `will not able to create pod with invalid DNS label: ${host}`));
  }
  if (old) {
    const os = old.spec ?? {};
    if (!deepEqual(spec.completions, os.completions)) {
      const elastic = spec.completionMode === 'Indexed' && spec.completions != null;
      if (!elastic) errs.push(immutable(p.child('completions'), spec.completions ?? null));
      else if (spec.completions !== spec.parallelism)
        errs.push(fieldError.invalid(p.child('completions'), spec.completions, 'can only be modified in tandem with spec.parallelism'));
    }
    for (const f of ['selector', 'completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy'])
      if (!deepEqual(spec[f], os[f])) errs.push(immutable(p.child(f), spec[f] ?? null));
    if (!deepEqual(spec.template, os.template)) errs.push(immutable(p.child('template'), 'object'));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Table (kubectl printJob)

/** The condition of `type` with status True, if any. */
export function trueCondition(o: KubeObject, type: string): any {
  return asArr(o.status?.conditions).find((c: any) => c.type === type && c.status === 'True');
}

function jobStatusText(o: KubeObject): string {
  if (trueCondition(o, 'Complete')) return 'Complete';
  if (trueCondition(o, 'Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (trueCondition(o, 'Suspended')) return 'Suspended';
  if (trueCondition(o, 'FailureTarget')) return 'FailureTarget';
  if (trueCondition(o, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function completionsText(o: KubeObject): string {
  const s = o.status?.succeeded ?? 0;
  if (o.spec?.completions != null) return `${s}/${o.spec.completions}`;
  const par = o.spec?.parallelism ?? 0;
  return par > 1 ? `${s}/1 of ${par}` : `${s}/1`;
}

function durationText(o: KubeObject, now: Date): string {
  const start = Date.parse(o.status?.startTime ?? '');
  if (!Number.isFinite(start)) return '';
  const end = Date.parse(o.status?.completionTime ?? '');
  return age(new Date(start).toISOString(), Number.isFinite(end) ? new Date(end) : now);
}

/** kubectl's FormatLabelSelector. */
export function selectorText(sel: unknown): string {
  if (sel == null) return '<none>';
  const s = selectorOf(sel);
  if (!s) return '<error>';
  return s.nothing ? '<none>' : selectorString(s) || '<none>';
}

/** Container names and images of a pod template, comma-joined (kubectl layoutContainerCells). */
export function containerCells(tpl: any): [string, string] {
  const cs = asArr(tpl?.spec?.containers);
  return [cs.map((c: any) => c.name).join(','), cs.map((c: any) => c.image).join(',')];
}

/** batch/v1 Job */
export const job = defineKind({
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  namespaced: true,
  categories: ['all'],
  status: true,
  schema: kindSchema({ spec: jobSpecSchema, status: jobStatusSchema }),
  defaults: defaultJob,
  semantic: validateJob,
  columns: [
    nameCol, col('Status', 'string', false, 'Status of the job.'), col('Completions'), col('Duration', 'string', false, 'Time required to complete the job.'), ageCol,
    col('Containers', 'string', true), col('Images', 'string', true), col('Selector', 'string', true),
  ],
  cells: (o, now) => {
    const [names, images] = containerCells(o.spec?.template);
    return [o.metadata.name, jobStatusText(o), completionsText(o), durationText(o, now), age(o.metadata.creationTimestamp, now), names, images, selectorText(o.spec?.selector)];
  },
});

export { defaultJobSpec };
