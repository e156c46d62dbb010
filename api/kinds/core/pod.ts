// core/v1 Pod: schema, defaults (api/kinds/core/pod-spec.ts), validation including Kubernetes' rule
// that a pod's spec is immutable except for images, activeDeadlineSeconds, added tolerations and
// terminationGracePeriodSeconds, and the kubectl table (READY, STATUS, RESTARTS as kubectl computes).

import { age } from '../../age.js';
import type { KubeObject } from '../../meta.js';
import { type FieldError, Path, asArr, deepEqual, fieldError } from '../common.js';
import { kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';
import { podSpec, podStatus } from './pod-schema.js';
import { defaultPodSpec, validatePodSpec } from './pod-spec.js';

const podUpdateMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Pod spec update rules: copy the mutable fields from old into a clone of new, then compare. */
export function validatePodUpdate(spec: any, oldSpec: any): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  if (typeof oldSpec?.activeDeadlineSeconds === 'number') {
    if (spec.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds > oldSpec.activeDeadlineSeconds)
      errs.push(fieldError.invalid(p.child('activeDeadlineSeconds'), spec.activeDeadlineSeconds ?? null, 'must be less than or equal to previous value'));
  }
  const oldTol = asArr(oldSpec?.tolerations);
  const newTol = asArr(spec.tolerations);
  const tolOk = oldTol.every((o) => newTol.some((n) => deepEqual(n, o)));
  if (!tolOk) errs.push(fieldError.forbidden(p.child('tolerations'), 'existing toleration can not be modified except its tolerationSeconds'));
  const clone = structuredClone(spec);
  const copyImages = (list: string) =>
    asArr(clone[list]).forEach((c: any, i: number) => {
      const o = oldSpec?.[list]?.[i];
      if (o && c && typeof c === 'object') c.image = o.image;
    });
  copyImages('containers');
  copyImages('initContainers');
  clone.activeDeadlineSeconds = oldSpec?.activeDeadlineSeconds;
  clone.tolerations = oldSpec?.tolerations;
  clone.terminationGracePeriodSeconds = oldSpec?.terminationGracePeriodSeconds;
  // Ephemeral containers change only through their own subresource, and are only ever added there
  // (ValidatePodEphemeralContainersUpdate); schedulingGates may be removed.
  clone.ephemeralContainers = oldSpec?.ephemeralContainers;
  const newEphemeral = asArr(spec.ephemeralContainers);
  for (const oldEc of asArr(oldSpec?.ephemeralContainers)) {
    const i = newEphemeral.findIndex((c: any) => c?.name === oldEc?.name);
    if (i < 0) errs.push(fieldError.forbidden(p.child('ephemeralContainers'), `existing ephemeral containers ${JSON.stringify(oldEc?.name)} may not be removed\n`));
    else if (!deepEqual(newEphemeral[i], oldEc)) errs.push(fieldError.forbidden(p.child('ephemeralContainers').index(i), `existing ephemeral containers ${JSON.stringify(oldEc?.name)} may not be changed\n`));
  }
  if (asArr(spec.schedulingGates).every((g) => asArr(oldSpec?.schedulingGates).some((o) => deepEqual(o, g)))) clone.schedulingGates = oldSpec?.schedulingGates;
  if (!deepEqual(clone, oldSpec)) errs.push(fieldError.forbidden(p, podUpdateMessage));
  return errs;
}

/** STATUS, ready/total and restarts as kubectl's printPod computes them. */
export function podSummary(pod: KubeObject, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? {};
  const st = pod.status ?? {};
  let restarts = 0;
  let lastRestart = 0;
  let ready = 0;
  let total = asArr(spec.containers).length;
  let reason: string = st.reason || st.phase || '';
  const noteRestart = (cs: any) => {
    restarts += cs.restartCount ?? 0;
    const fin = cs.lastState?.terminated?.finishedAt;
    if (fin) lastRestart = Math.max(lastRestart, Date.parse(fin) || 0);
  };
  const sidecars = new Set(asArr(spec.initContainers).filter((c: any) => c.restartPolicy === 'Always').map((c: any) => c.name));
  total += sidecars.size;
  let initializing = false;
  const inits = asArr(st.initContainerStatuses);
  for (let i = 0; i < inits.length; i++) {
    const cs = inits[i];
    noteRestart(cs);
    if (sidecars.has(cs.name) && cs.ready) ready++;
    const term = cs.state?.terminated;
    if (term && term.exitCode === 0) continue;
    if (sidecars.has(cs.name) && cs.started) continue;
    if (term) reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    else if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'PodInitializing') reason = `Init:${cs.state.waiting.reason}`;
    else reason = `Init:${i}/${asArr(spec.initContainers).length}`;
    initializing = true;
    break;
  }
  const initialized = asArr(st.conditions).some((c: any) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    let hasRunning = false;
    const css = asArr(st.containerStatuses);
    for (let i = css.length - 1; i >= 0; i--) {
      const cs = css[i];
      noteRestart(cs);
      if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
      else if (cs.state?.terminated?.reason) reason = cs.state.terminated.reason;
      else if (cs.state?.terminated) reason = cs.state.terminated.signal ? `Signal:${cs.state.terminated.signal}` : `ExitCode:${cs.state.terminated.exitCode}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = asArr(st.conditions).some((c: any) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  let r = String(restarts);
  if (restarts !== 0 && lastRestart > 0) r = `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)`;
  return { ready: `${ready}/${total}`, status: reason, restarts: r };
}

/** core/v1 Pod */
export const pod = defineKind({
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  shortNames: ['po'],
  namespaced: true,
  categories: ['all'],
  status: true,
  schema: kindSchema({ spec: podSpec, status: podStatus }, ['spec']),
  defaults(o) {
    defaultPodSpec(o.spec, true);
  },
  semantic(o, old) {
    const errs = validatePodSpec(o.spec, Path.root('spec'));
    if (old) errs.push(...validatePodUpdate(o.spec, old.spec));
    return errs;
  },
  columns: [nameCol, col('Ready'), col('Status'), col('Restarts'), ageCol, col('IP', 'string', true), col('Node', 'string', true), col('Nominated Node', 'string', true), col('Readiness Gates', 'string', true)],
  cells(o, now) {
    const s = podSummary(o, now);
    const gates = asArr(o.spec?.readinessGates);
    const conds = asArr(o.status?.conditions);
    const gatesTrue = gates.filter((g: any) => conds.some((c: any) => c.type === g.conditionType && c.status === 'True')).length;
    return [
      o.metadata.name,
      s.ready,
      s.status,
      s.restarts,
      age(o.metadata.creationTimestamp, now),
      o.status?.podIP || '<none>',
      o.spec?.nodeName || '<none>',
      o.status?.nominatedNodeName || '<none>',
      gates.length ? `${gatesTrue}/${gates.length}` : '<none>',
    ];
  },
});
