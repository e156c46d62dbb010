// apps/v1 Deployment, ReplicaSet and DaemonSet: a selector that must match the pod template's
// labels (and may not change), a template validated as a PodSpec with restartPolicy Always, rollout
// strategies with Kubernetes' defaults (25%/25%, DaemonSet maxUnavailable 1), and kubectl tables.

import { age } from '../../age.js';
import { fromLabelSelector, fromSet, isEmpty, matches, toString as selectorString, validateLabelSelector, validateLabels } from '../../labels.js';
import type { KubeObject } from '../../meta.js';
import { arr, bool, enm, int, intOrStr, obj, str } from '../../schema/schema.js';
import { condition } from '../common.js';
import {
  type FieldError,
  Path,
  asArr,
  deepEqual,
  ensureObj,
  fieldError,
  immutable,
  intOrPercentValue,
  kindSchema,
  labelSelector,
  nonNegative,
  setDefault,
  validateIntOrPercent,
} from '../common.js';
import { podTemplateSpec } from '../core/pod-schema.js';
import { defaultPodTemplate, validatePodSpec } from '../core/pod-spec.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const workloadCondition = obj({ type: str, status: enm('True', 'False', 'Unknown'), lastUpdateTime: str, lastTransitionTime: str, reason: str, message: str });

const deploymentSpec = obj(
  {
    replicas: int,
    selector: labelSelector,
    template: podTemplateSpec,
    strategy: obj({ type: enm('Recreate', 'RollingUpdate'), rollingUpdate: obj({ maxUnavailable: intOrStr, maxSurge: intOrStr }) }),
    minReadySeconds: int,
    revisionHistoryLimit: int,
    paused: bool,
    progressDeadlineSeconds: int,
  },
  ['selector', 'template'],
);
const deploymentStatus = obj({
  observedGeneration: int,
  replicas: int,
  updatedReplicas: int,
  readyReplicas: int,
  availableReplicas: int,
  unavailableReplicas: int,
  terminatingReplicas: int,
  conditions: arr(workloadCondition),
  collisionCount: int,
});

const replicaSetSpec = obj({ replicas: int, minReadySeconds: int, selector: labelSelector, template: podTemplateSpec }, ['selector']);
const replicaSetStatus = obj({
  replicas: int,
  fullyLabeledReplicas: int,
  readyReplicas: int,
  availableReplicas: int,
  terminatingReplicas: int,
  observedGeneration: int,
  conditions: arr(workloadCondition),
});

const daemonSetSpec = obj(
  {
    selector: labelSelector,
    template: podTemplateSpec,
    updateStrategy: obj({ type: enm('RollingUpdate', 'OnDelete'), rollingUpdate: obj({ maxUnavailable: intOrStr, maxSurge: intOrStr }) }),
    minReadySeconds: int,
    revisionHistoryLimit: int,
  },
  ['selector', 'template'],
);
const daemonSetStatus = obj({
  currentNumberScheduled: int,
  numberMisscheduled: int,
  desiredNumberScheduled: int,
  numberReady: int,
  observedGeneration: int,
  updatedNumberScheduled: int,
  numberAvailable: int,
  numberUnavailable: int,
  collisionCount: int,
  conditions: arr(condition),
});

// ---------------------------------------------------------------------------------------------
// Shared template + selector rules

/**
 * A workload's pod template (kube's ValidatePodTemplateSpecForReplicaSet/-StatefulSet): its labels, the
 * selector matching them (checked only while `errs` is still empty, as kube does), the pod spec
 * (`podSpec`, by default the template's), restartPolicy Always and no activeDeadlineSeconds.
 */
export function validateWorkloadTemplate(errs: FieldError[], tp: Path, tpl: any, sel: unknown, kind: string, podSpec: unknown = tpl.spec): void {
  const labels = tpl.metadata?.labels;
  errs.push(...validateLabels(labels, tp.child('metadata', 'labels')));
  if (sel && errs.length === 0) {
    let s;
    try {
      s = fromLabelSelector(sel as never);
    } catch {
      s = undefined;
    }
    if (s && !isEmpty(s) && !matches(s, labels))
      errs.push(fieldError.invalid(tp.child('metadata', 'labels'), labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodSpec(podSpec as never, tp.child('spec')));
  const rp = tpl.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always') errs.push(fieldError.notSupported(tp.child('spec', 'restartPolicy'), rp, ['Always']));
  if (tpl.spec?.activeDeadlineSeconds !== undefined)
    errs.push(fieldError.forbidden(tp.child('spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
}

function validateSelectorAndTemplate(o: KubeObject, old: KubeObject | undefined, kind: string): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  const spec = o.spec ?? {};
  const sel = spec.selector;
  // A missing selector or template is already a Required error from the schema walk.
  if (sel) {
    errs.push(...validateLabelSelector(sel, p.child('selector')));
    if (asArr(sel.matchExpressions).length === 0 && Object.keys(sel.matchLabels ?? {}).length === 0)
      errs.push(fieldError.invalid(p.child('selector'), sel, `empty selector is invalid for ${kind.toLowerCase()}`));
  }
  if (spec.template) validateWorkloadTemplate(errs, p.child('template'), spec.template, sel, 'ReplicaSet'); // the wording this check had for every kind here
  if (old && old.spec?.selector && !deepEqual(spec.selector, old.spec.selector)) errs.push(immutable(p.child('selector'), spec.selector ?? null));
  return errs;
}

function defaultTemplate(o: KubeObject): Record<string, any> | undefined {
  const spec = ensureObj(o, 'spec');
  if (spec) defaultPodTemplate(spec.template);
  return spec;
}

function selectorText(sel: unknown): string {
  try {
    const s = fromLabelSelector(sel as never);
    return s.nothing ? '<none>' : selectorString(s) || '<none>';
  } catch {
    return '<error>';
  }
}

const containersOf = (o: KubeObject): any[] => asArr(o.spec?.template?.spec?.containers);
const names = (o: KubeObject) => containersOf(o).map((c: any) => c.name).join(',');
const images = (o: KubeObject) => containersOf(o).map((c: any) => c.image).join(',');

function statusAndScale(kind: string): { status: true; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string } } {
  return kind === 'DaemonSet'
    ? { status: true }
    : { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' } };
}

// ---------------------------------------------------------------------------------------------
// Deployment

function defaultDeployment(o: KubeObject): void {
  const spec = defaultTemplate(o);
  if (!spec) return;
  setDefault(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  if (strategy) {
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = ensureObj(strategy, 'rollingUpdate');
      if (ru) {
        setDefault(ru, 'maxUnavailable', '25%');
        setDefault(ru, 'maxSurge', '25%');
      }
    }
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
}

function validateRollingUpdate(errs: FieldError[], p: Path, ru: any, surgeAllowed = true): void {
  if (!ru) return;
  validateIntOrPercent(errs, p.child('maxUnavailable'), ru.maxUnavailable);
  validateIntOrPercent(errs, p.child('maxSurge'), ru.maxSurge);
  if (typeof ru.maxUnavailable === 'string' && intOrPercentValue(ru.maxUnavailable, 100, false) > 100)
    errs.push(fieldError.invalid(p.child('maxUnavailable'), ru.maxUnavailable, 'must not be greater than 100%'));
  const mu = intOrPercentValue(ru.maxUnavailable ?? 0, 100, false);
  const ms = intOrPercentValue(ru.maxSurge ?? 0, 100, true);
  if (surgeAllowed && mu === 0 && ms === 0) errs.push(fieldError.invalid(p.child('maxUnavailable'), ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
}

function validateDeployment(o: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateSelectorAndTemplate(o, old, 'Deployment');
  const p = Path.root('spec');
  const spec = o.spec ?? {};
  nonNegative(errs, p.child('replicas'), spec.replicas);
  nonNegative(errs, p.child('minReadySeconds'), spec.minReadySeconds);
  nonNegative(errs, p.child('revisionHistoryLimit'), spec.revisionHistoryLimit);
  nonNegative(errs, p.child('progressDeadlineSeconds'), spec.progressDeadlineSeconds);
  if (typeof spec.progressDeadlineSeconds === 'number' && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0))
    errs.push(fieldError.invalid(p.child('progressDeadlineSeconds'), spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  const st = spec.strategy;
  if (st) {
    const sp = p.child('strategy');
    if (st.type === 'Recreate' && st.rollingUpdate) errs.push(fieldError.forbidden(sp.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
    if (st.type === 'RollingUpdate') validateRollingUpdate(errs, sp.child('rollingUpdate'), st.rollingUpdate);
  }
  return errs;
}

/** apps/v1 Deployment */
export const deployment = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  shortNames: ['deploy'],
  namespaced: true,
  categories: ['all'],
  ...statusAndScale('Deployment'),
  schema: kindSchema({ spec: deploymentSpec, status: deploymentStatus }),
  defaults: defaultDeployment,
  semantic: validateDeployment,
  columns: [nameCol, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), ageCol, col('Containers', 'string', true), col('Images', 'string', true), col('Selector', 'string', true)],
  cells: (o, now) => [
    o.metadata.name,
    `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
    o.status?.updatedReplicas ?? 0,
    o.status?.availableReplicas ?? 0,
    age(o.metadata.creationTimestamp, now),
    names(o),
    images(o),
    selectorText(o.spec?.selector),
  ],
});

// ---------------------------------------------------------------------------------------------
// ReplicaSet

/** apps/v1 ReplicaSet */
export const replicaSet = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  shortNames: ['rs'],
  namespaced: true,
  categories: ['all'],
  ...statusAndScale('ReplicaSet'),
  schema: kindSchema({ spec: replicaSetSpec, status: replicaSetStatus }),
  defaults(o) {
    const spec = defaultTemplate(o);
    if (spec) setDefault(spec, 'replicas', 1);
  },
  semantic(o, old) {
    const errs = validateSelectorAndTemplate(o, old, 'ReplicaSet');
    nonNegative(errs, Path.root('spec').child('replicas'), o.spec?.replicas);
    nonNegative(errs, Path.root('spec').child('minReadySeconds'), o.spec?.minReadySeconds);
    return errs;
  },
  columns: [nameCol, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), ageCol, col('Containers', 'string', true), col('Images', 'string', true), col('Selector', 'string', true)],
  cells: (o, now) => [
    o.metadata.name,
    o.spec?.replicas ?? 0,
    o.status?.replicas ?? 0,
    o.status?.readyReplicas ?? 0,
    age(o.metadata.creationTimestamp, now),
    names(o),
    images(o),
    selectorText(o.spec?.selector),
  ],
});

// ---------------------------------------------------------------------------------------------
// DaemonSet

/** apps/v1 DaemonSet */
export const daemonSet = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  shortNames: ['ds'],
  namespaced: true,
  categories: ['all'],
  ...statusAndScale('DaemonSet'),
  schema: kindSchema({ spec: daemonSetSpec, status: daemonSetStatus }),
  defaults(o) {
    const spec = defaultTemplate(o);
    if (!spec) return;
    const us = ensureObj(spec, 'updateStrategy');
    if (us) {
      setDefault(us, 'type', 'RollingUpdate');
      if (us.type === 'RollingUpdate') {
        const ru = ensureObj(us, 'rollingUpdate');
        if (ru) {
          setDefault(ru, 'maxUnavailable', 1);
          setDefault(ru, 'maxSurge', 0);
        }
      }
    }
    setDefault(spec, 'revisionHistoryLimit', 10);
  },
  semantic(o, old) {
    const errs = validateSelectorAndTemplate(o, old, 'DaemonSet');
    const p = Path.root('spec');
    const us = o.spec?.updateStrategy;
    nonNegative(errs, p.child('minReadySeconds'), o.spec?.minReadySeconds);
    nonNegative(errs, p.child('revisionHistoryLimit'), o.spec?.revisionHistoryLimit);
    if (us?.type === 'OnDelete' && us.rollingUpdate) errs.push(fieldError.forbidden(p.child('updateStrategy', 'rollingUpdate'), "may not be specified when strategy `type` is 'OnDelete'"));
    if (us?.type === 'RollingUpdate') validateRollingUpdate(errs, p.child('updateStrategy', 'rollingUpdate'), us.rollingUpdate);
    return errs;
  },
  columns: [
    nameCol,
    col('Desired', 'integer'),
    col('Current', 'integer'),
    col('Ready', 'integer'),
    col('Up-to-date', 'integer'),
    col('Available', 'integer'),
    col('Node Selector'),
    ageCol,
    col('Containers', 'string', true),
    col('Images', 'string', true),
    col('Selector', 'string', true),
  ],
  cells: (o, now) => {
    const st = o.status ?? {};
    const ns = o.spec?.template?.spec?.nodeSelector;
    return [
      o.metadata.name,
      st.desiredNumberScheduled ?? 0,
      st.currentNumberScheduled ?? 0,
      st.numberReady ?? 0,
      st.updatedNumberScheduled ?? 0,
      st.numberAvailable ?? 0,
      ns && Object.keys(ns).length ? selectorString(fromSet(ns)) : '<none>',
      age(o.metadata.creationTimestamp, now),
      names(o),
      images(o),
      selectorText(o.spec?.selector),
    ];
  },
});

