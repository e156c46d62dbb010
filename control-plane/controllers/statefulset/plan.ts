// What one StatefulSet sync should do (kube's defaultStatefulSetControl.updateStatefulSet), as a pure
// function of the set, its pods, the current and update revisions and the time. Pods have stable names
// `<set>-<ordinal>` (ordinals from spec.ordinals.start); OrderedReady creates them one at a time in
// order, each only once every lower one is Running and Ready, and removes condemned ones highest first;
// Parallel creates and removes all at once. Failed pods are deleted to be recreated. RollingUpdate
// replaces pods at an old revision from the highest ordinal down to spec.updateStrategy.rollingUpdate.
// partition, one at a time, waiting for readiness; OnDelete leaves them until a user deletes them.

import type { KubeObject } from '../../../api/meta.js';
import { isPodAvailable, isPodReady } from '../podutil.js';

export const REVISION_LABEL = 'controller-revision-hash';
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** A sync's actions: pods to create (ordinal + whether at the update revision), pods to delete, status. */
export interface StsPlan {
  create: { ordinal: number; update: boolean }[];
  delete: KubeObject[];
  status: Record<string, any>;
  requeueAfterMs?: number;
}

/** The ordinal of a pod named `<set>-<n>`, or undefined. */
export function ordinalOf(set: KubeObject, pod: KubeObject): number | undefined {
  const prefix = `${set.metadata.name}-`;
  const n = pod.metadata.name ?? '';
  if (!n.startsWith(prefix)) return undefined;
  const rest = n.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

const isFailed = (p: KubeObject) => p.status?.phase === 'Failed';
const isTerminating = (p: KubeObject) => !!p.metadata.deletionTimestamp;
const runningAndReady = (p: KubeObject) => p.status?.phase === 'Running' && isPodReady(p);

/** Plan one sync. `currentRevision`/`updateRevision` are the revision names (`<set>-<hash>`). */
export function planStatefulSet(set: KubeObject, pods: KubeObject[], currentRevision: string, updateRevision: string, now: number): StsPlan {
  const spec = set.spec ?? {};
  const replicas: number = spec.replicas ?? 1;
  const start: number = spec.ordinals?.start ?? 0;
  const parallel = spec.podManagementPolicy === 'Parallel';
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition: number = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const minReady: number = spec.minReadySeconds ?? 0;
  const plan: StsPlan = { create: [], delete: [], status: {} };

  const byOrdinal = new Map<number, KubeObject>();
  for (const p of pods) {
    const o = ordinalOf(set, p);
    if (o !== undefined) byOrdinal.set(o, p);
  }
  const inRange = (o: number) => o >= start && o < start + replicas;
  const condemned = [...byOrdinal.entries()].filter(([o]) => !inRange(o)).sort(([a], [b]) => b - a).map(([, p]) => p);
  const revisionOf = (p: KubeObject) => p.metadata.labels?.[REVISION_LABEL];

  // status from what exists now (kube computes it before acting)
  const all = [...byOrdinal.values()];
  const st: Record<string, any> = {
    observedGeneration: set.metadata.generation ?? 1,
    replicas: all.filter((p) => !isTerminating(p)).length,
    readyReplicas: all.filter((p) => !isTerminating(p) && isPodReady(p)).length,
    availableReplicas: all.filter((p) => !isTerminating(p) && isPodAvailable(p, minReady, now)).length,
    currentReplicas: all.filter((p) => !isTerminating(p) && revisionOf(p) === currentRevision).length,
    updatedReplicas: all.filter((p) => !isTerminating(p) && revisionOf(p) === updateRevision).length,
    currentRevision,
    updateRevision,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  plan.status = st;

  // the pods in range, in order; the first that is not Running and Ready blocks an OrderedReady set
  let blocked = false;
  for (let o = start; o < start + replicas; o++) {
    const p = byOrdinal.get(o);
    if (!p) {
      if (blocked) break;
      // kube: ordinals below the partition keep the current revision under RollingUpdate
      const update = !(rolling && o - start < partition && currentRevision !== updateRevision);
      plan.create.push({ ordinal: o, update });
      if (!parallel) blocked = true;
      continue;
    }
    if (isFailed(p) && !isTerminating(p)) {
      plan.delete.push(p); // recreated next sync
      if (!parallel) blocked = true;
      continue;
    }
    if (!parallel && (isTerminating(p) || !runningAndReady(p))) blocked = true;
    if (blocked && !parallel) break;
  }
  if (plan.create.length || plan.delete.length) return plan;

  // scale down: highest ordinal first; OrderedReady waits for every remaining pod to be Running and Ready
  const live = condemned.filter((p) => !isTerminating(p));
  if (condemned.length) {
    const healthy = [...byOrdinal.entries()].filter(([o]) => inRange(o)).every(([, p]) => runningAndReady(p) && !isTerminating(p));
    if (parallel) plan.delete.push(...live);
    else if (healthy && live.length && live.length === condemned.length) plan.delete.push(live[0]!);
    return plan;
  }

  // rolling update: one pod at a time from the top, down to the partition, once all are Running and Ready
  if (rolling) {
    const inSet = [...byOrdinal.entries()].filter(([o]) => inRange(o)).sort(([a], [b]) => b - a);
    if (!inSet.every(([, p]) => runningAndReady(p) && !isTerminating(p))) return plan;
    for (const [o, p] of inSet) {
      if (o - start < partition) break;
      if (revisionOf(p) !== updateRevision) {
        plan.delete.push(p);
        break;
      }
    }
  }
  if (minReady > 0 && st.readyReplicas > st.availableReplicas) plan.requeueAfterMs = minReady * 1000;
  return plan;
}

/** kube's completeRollingUpdate: once every pod runs the update revision and is ready, it becomes current. */
export function completeRollingUpdate(set: KubeObject, status: Record<string, any>): Record<string, any> {
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas && status.replicas === (set.spec?.replicas ?? 1)) {
    return { ...status, currentReplicas: status.updatedReplicas, currentRevision: status.updateRevision };
  }
  return status;
}

/** The pod for `ordinal` from `template` (the revision's), with its stable identity and claims as emptyDirs. */
export function statefulPod(set: KubeObject, template: any, revision: string, ordinal: number): KubeObject {
  const name = `${set.metadata.name}-${ordinal}`;
  const tm = template?.metadata ?? {};
  const spec = structuredClone(template?.spec ?? {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const volumes: any[] = (spec.volumes ??= []);
  for (const claim of set.spec?.volumeClaimTemplates ?? []) {
    const cname = claim.metadata?.name;
    if (!cname) continue;
    const i = volumes.findIndex((v) => v.name === cname);
    // storage is out of scope: each claim is an emptyDir that lives as long as the pod
    const vol = { name: cname, emptyDir: {} };
    if (i >= 0) volumes[i] = vol;
    else volumes.push(vol);
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(tm.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
      ...(tm.annotations ? { annotations: { ...tm.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}
