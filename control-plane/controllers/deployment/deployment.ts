// The Deployment controller: one ReplicaSet per pod template (named `<deployment>-<pod-template-hash>`),
// rolled by RollingUpdate (maxSurge/maxUnavailable, rolling.ts) or Recreate (old pods gone first), with
// revisions in the `deployment.kubernetes.io/revision` annotation (an old template coming back, as after
// `rollout undo`, takes the next revision and remembers the old one in `revision-history`), history
// trimmed to revisionHistoryLimit, and the Available and Progressing conditions kubectl reads.

import type { KubeObject } from '../../../api/meta.js';
import { fromLabelSelector, matches } from '../../../api/labels.js';
import { isAlreadyExists, isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { controllerRef, refs } from '../informers.js';
import { deepEqual, isPodActive, isoSeconds, setCondition } from '../podutil.js';
import { newReplicaSetReplicas, podTemplateHash, resolveFenceposts, scaleDownOld, templatesEqual } from './rolling.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

/** The revision number of a ReplicaSet (0 when unset). */
export function revisionOf(o: KubeObject): number {
  return Number(o.metadata.annotations?.[REVISION] ?? 0) || 0;
}

/** Oldest first (creation time, then name), as kube's ReplicaSetsByCreationTimestamp. */
function byAge(a: KubeObject, b: KubeObject): number {
  const d = (Date.parse(a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata.creationTimestamp ?? '') || 0);
  return d || String(a.metadata.name).localeCompare(String(b.metadata.name));
}

/** The state a Deployment's status should show for its ReplicaSets (pure). */
export function deploymentStatus(d: KubeObject, newRS: KubeObject | undefined, all: KubeObject[], now: number, progressed: boolean): Record<string, any> {
  const sum = (f: (r: KubeObject) => number) => all.reduce((n, r) => n + f(r), 0);
  const desired = d.spec?.replicas ?? 1;
  const available = sum((r) => r.status?.availableReplicas ?? 0);
  const specTotal = sum((r) => r.spec?.replicas ?? 0);
  const { unavailable } = rollingParams(d);
  const prev = d.status ?? {};
  const status: Record<string, any> = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: sum((r) => r.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum((r) => r.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, specTotal - available),
  };
  if (prev.collisionCount) status.collisionCount = prev.collisionCount;
  const ts = isoSeconds(now);
  const cond = (type: string, st: string, reason: string, message: string) => ({ type, status: st, lastUpdateTime: ts, lastTransitionTime: ts, reason, message });
  let conditions = prev.conditions ?? [];
  conditions = available >= desired - unavailable
    ? keepUpdateTime(conditions, cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'))
    : keepUpdateTime(conditions, cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
  const rsName = newRS?.metadata.name ?? '';
  const prog = conditions.find((c: any) => c.type === 'Progressing');
  const complete = newRS && status.updatedReplicas === desired && status.replicas === desired && available >= desired && (newRS.spec?.replicas ?? 0) === desired;
  if (d.spec?.paused) {
    conditions = keepUpdateTime(conditions, cond('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
  } else if (prog?.reason === 'DeploymentPaused') {
    conditions = setCondition(conditions, cond('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
  } else if (complete) {
    conditions = keepUpdateTime(conditions, cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`));
  } else if (progressed || !prog || (prev.updatedReplicas ?? 0) < status.updatedReplicas || (prev.availableReplicas ?? 0) < available || (prev.readyReplicas ?? 0) < status.readyReplicas) {
    const reason = prog?.reason === 'NewReplicaSetCreated' && prog.message === `Created new replica set "${rsName}"` ? 'NewReplicaSetCreated' : 'ReplicaSetUpdated';
    const message = reason === 'NewReplicaSetCreated' ? prog!.message : `ReplicaSet "${rsName}" is progressing.`;
    conditions = setCondition(conditions, cond('Progressing', 'True', reason, message)).map((c: any) => (c.type === 'Progressing' ? { ...c, lastUpdateTime: ts } : c));
  } else if (prog && prog.status === 'True' && prog.reason !== 'NewReplicaSetAvailable') {
    const last = Date.parse(prog.lastUpdateTime ?? prog.lastTransitionTime);
    const deadline = (Number.isFinite(last) ? last : now) + (d.spec?.progressDeadlineSeconds ?? 600) * 1000;
    if (now > deadline) conditions = setCondition(conditions, cond('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`));
  }
  status.conditions = conditions;
  return status;
}

/** setCondition that also keeps lastUpdateTime when nothing about the condition changed. */
function keepUpdateTime(list: any[], c: any): any[] {
  const prev = list.find((x) => x.type === c.type);
  if (prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message) return list;
  return setCondition(list, c);
}

/** maxSurge/maxUnavailable of a Deployment as counts (Recreate: surge 0, unavailable = replicas). */
export function rollingParams(d: KubeObject): { surge: number; unavailable: number } {
  const desired = d.spec?.replicas ?? 1;
  if (d.spec?.strategy?.type === 'Recreate') return { surge: 0, unavailable: desired };
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge, ru.maxUnavailable, desired);
}

/** The Deployment controller. */
export function deploymentController(ctx: ControllerContext): Controller {
  const dInf = ctx.informers.for(refs.deployments);
  const rsInf = ctx.informers.for(refs.replicasets);
  const podInf = ctx.informers.for(refs.pods);
  const rec = ctx.recorder('deployment-controller');
  const c = new Controller({ name: 'deployment', log: ctx.log, reconcile });

  const ownerOfRs = (rs: KubeObject) => {
    const r = controllerRef(rs);
    if (r?.kind === 'Deployment') return `${rs.metadata.namespace}/${r.name}`;
    if (r) return undefined;
    // an orphan: any Deployment whose selector matches may adopt it
    return dInf.list().filter((d) => d.metadata.namespace === rs.metadata.namespace && selects(d, rs)).map(keyOf)[0];
  };
  dInf.addEventHandler({ onAdd: (d) => c.enqueue(keyOf(d)), onUpdate: (_o, d) => c.enqueue(keyOf(d)), onDelete: (d) => c.enqueue(keyOf(d)) });
  rsInf.addEventHandler({
    onAdd: (rs) => { const k = ownerOfRs(rs); if (k) c.enqueue(k); },
    onUpdate: (o, rs) => { for (const k of new Set([ownerOfRs(o), ownerOfRs(rs)])) if (k) c.enqueue(k); },
    onDelete: (rs) => { const k = ownerOfRs(rs); if (k) c.enqueue(k); },
  });
  // Recreate waits for old pods to go: a pod deletion wakes the Deployment that owns its ReplicaSet.
  podInf.addEventHandler({
    onDelete(p) {
      const r = controllerRef(p);
      if (r?.kind !== 'ReplicaSet') return;
      const rs = rsInf.get(`${p.metadata.namespace}/${r.name}`);
      const k = rs && ownerOfRs(rs);
      if (k) c.enqueue(k);
    },
  });

  function selects(d: KubeObject, o: KubeObject): boolean {
    try {
      return matches(fromLabelSelector(d.spec?.selector), o.metadata.labels);
    } catch {
      return false;
    }
  }

  async function scale(d: KubeObject, rs: KubeObject, replicas: number): Promise<KubeObject> {
    const from = rs.spec?.replicas ?? 0;
    const { surge } = rollingParams(d);
    const desired = d.spec?.replicas ?? 1;
    const ann = { ...(rs.metadata.annotations ?? {}), [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + surge) };
    if (from === replicas && deepEqual(ann, rs.metadata.annotations ?? {})) return rs;
    const next = structuredClone(rs);
    next.spec.replicas = replicas;
    next.metadata.annotations = ann;
    const updated = await ctx.client.update(refs.replicasets, next, { namespace: rs.metadata.namespace });
    if (from !== replicas)
      rec.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
    return updated;
  }

  /** One reconcile's working state: the Deployment (a copy), its ReplicaSets, the current one and the old ones. */
  interface Rollout {
    d: KubeObject;
    ns: string;
    desired: number;
    rsList: KubeObject[];
    newRS: KubeObject | undefined;
    old: KubeObject[];
    maxOldRevision: number;
    progressed: boolean;
  }

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = dInf.get(key);
    if (!cached) return;
    const s = await claimReplicaSets(structuredClone(cached));
    if (s.d.metadata.deletionTimestamp) return writeStatus(s.d, s.newRS, s.rsList, false);
    if (s.d.spec?.paused) return syncPaused(s);
    if (s.d.spec?.strategy?.type === 'Recreate') await rolloutRecreate(s);
    else await rolloutRolling(s);
    await syncRevisionAnnotation(s);
    await cleanupHistory(s.d, s.old);
    return writeStatus(s.d, s.newRS, [...s.old, ...(s.newRS ? [s.newRS] : [])], s.progressed);
  }

  /** The Deployment's ReplicaSets (adopting matching orphans), split into the current one and the old ones. */
  async function claimReplicaSets(d: KubeObject): Promise<Rollout> {
    const ns = d.metadata.namespace!;
    const rsList: KubeObject[] = [];
    for (const rs of rsInf.list()) {
      if (rs.metadata.namespace !== ns) continue;
      const r = controllerRef(rs);
      if (r?.uid === d.metadata.uid) rsList.push(structuredClone(rs));
      else if (!r && !d.metadata.deletionTimestamp && selects(d, rs)) {
        const adopted = await ctx.client.patch(refs.replicasets, rs.metadata.name!, {
          metadata: { resourceVersion: rs.metadata.resourceVersion, ownerReferences: [...(rs.metadata.ownerReferences ?? []), { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
        }, { namespace: ns, type: 'merge' });
        rsList.push(adopted);
      }
    }
    const newRS = rsList.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
    const old = rsList.filter((rs) => rs !== newRS).sort(byAge);
    return { d, ns, desired: d.spec?.replicas ?? 1, rsList, newRS, old, maxOldRevision: Math.max(0, ...old.map(revisionOf)), progressed: false };
  }

  /** Paused: no rollout; a Deployment whose only set is current still follows spec.replicas. */
  async function syncPaused(s: Rollout): Promise<ReconcileResult> {
    if (s.newRS && s.old.every((r) => (r.spec?.replicas ?? 0) === 0)) s.newRS = await scale(s.d, s.newRS, s.desired);
    return writeStatus(s.d, s.newRS, [...s.old, ...(s.newRS ? [s.newRS] : [])], s.progressed);
  }

  /** Recreate: scale every old set to 0, and once their pods are gone, the new set to spec.replicas. */
  async function rolloutRecreate(s: Rollout): Promise<void> {
    let scaledDown = false;
    for (let i = 0; i < s.old.length; i++) {
      if ((s.old[i]!.spec?.replicas ?? 0) > 0) {
        s.old[i] = await scale(s.d, s.old[i]!, 0);
        scaledDown = true;
      }
    }
    const oldUids = new Set(s.old.map((r) => r.metadata.uid));
    const oldPodsRunning = podInf.list().some((p) => p.metadata.namespace === s.ns && oldUids.has(controllerRef(p)?.uid) && (isPodActive(p) || p.metadata.deletionTimestamp));
    if (scaledDown || oldPodsRunning) return;
    const rs = await ensureNewReplicaSet(s, s.desired);
    s.newRS = await scale(s.d, rs, s.desired);
  }

  /** RollingUpdate: surge the new set up within maxSurge, else scale old sets down within maxUnavailable. */
  async function rolloutRolling(s: Rollout): Promise<void> {
    const { surge, unavailable } = rollingParams(s.d);
    const allSpec = s.rsList.reduce((n, r) => n + (r.spec?.replicas ?? 0), 0);
    let newRS = await ensureNewReplicaSet(s, newReplicaSetReplicas(s.desired, surge, allSpec, 0));
    const all = [...s.old, newRS];
    const total = all.reduce((n, r) => n + (r.spec?.replicas ?? 0), 0);
    const want = (newRS.spec?.replicas ?? 0) > s.desired ? s.desired : newReplicaSetReplicas(s.desired, surge, total, newRS.spec?.replicas ?? 0);
    if (want !== newRS.spec?.replicas) {
      newRS = await scale(s.d, newRS, want);
      s.progressed = true;
    } else {
      const counts = all.map((r) => ({ id: r.metadata.uid!, replicas: r.spec?.replicas ?? 0, available: r.status?.availableReplicas ?? 0, isNew: r === newRS }));
      const changes = scaleDownOld(s.desired, unavailable, counts);
      for (let i = 0; i < s.old.length; i++) {
        const n = changes.get(s.old[i]!.metadata.uid!);
        if (n !== undefined) {
          s.old[i] = await scale(s.d, s.old[i]!, n);
          s.progressed = true;
        }
      }
    }
    s.newRS = await scale(s.d, newRS, newRS.spec?.replicas ?? 0); // keep the replica annotations current
  }

  /** The current ReplicaSet: the existing one (renumbered when an old template came back), or a new one. */
  async function ensureNewReplicaSet(s: Rollout, initialReplicas: number): Promise<KubeObject> {
    if (s.newRS) {
      if (revisionOf(s.newRS) <= s.maxOldRevision) s.newRS = await takeNextRevision(s, s.newRS);
      return s.newRS;
    }
    return (s.newRS = await createNewReplicaSet(s, initialReplicas));
  }

  /** Rollout undo: the old template's set takes the next revision and remembers its previous one. */
  async function takeNextRevision(s: Rollout, rs: KubeObject): Promise<KubeObject> {
    const next = structuredClone(rs);
    const prevRev = String(revisionOf(rs));
    const hist = next.metadata.annotations?.[REVISION_HISTORY];
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION]: String(s.maxOldRevision + 1), [REVISION_HISTORY]: hist ? `${hist},${prevRev}` : prevRev };
    s.progressed = true;
    return ctx.client.update(refs.replicasets, next, { namespace: s.ns });
  }

  /** A ReplicaSet `<name>-<pod-template-hash>` for the current template; a hash collision bumps collisionCount. */
  async function createNewReplicaSet(s: Rollout, initialReplicas: number): Promise<KubeObject> {
    const { d, ns, desired } = s;
    const hash = podTemplateHash(d.spec.template, d.status?.collisionCount ?? 0);
    const template = structuredClone(d.spec.template);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), 'pod-template-hash': hash };
    const { surge } = rollingParams(d);
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: ns,
        labels: template.metadata.labels,
        annotations: { ...(d.metadata.annotations ?? {}), [REVISION]: String(s.maxOldRevision + 1), [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + surge) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: initialReplicas,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: { ...structuredClone(d.spec.selector), matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
        template,
      },
    };
    delete rs.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'];
    delete rs.metadata.annotations![REVISION_HISTORY];
    let created: KubeObject;
    try {
      created = await ctx.client.create(refs.replicasets, rs, { namespace: ns });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await ctx.client.get(refs.replicasets, rs.metadata.name!, { namespace: ns });
      if (controllerRef(existing)?.uid === d.metadata.uid && templatesEqual(existing.spec?.template, d.spec.template)) return existing;
      // a hash collision: count it and come back with another name
      await ctx.client.updateStatus(refs.deployments, { ...d, status: { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 } }, { namespace: ns });
      throw new Error(`replica set ${rs.metadata.name} exists with another template (hash collision)`);
    }
    s.progressed = true;
    const conds = setCondition(d.status?.conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${created.metadata.name}"`, lastUpdateTime: isoSeconds(ctx.now()), lastTransitionTime: isoSeconds(ctx.now()) });
    d.status = { ...(d.status ?? {}), conditions: conds };
    if (initialReplicas > 0) rec.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${initialReplicas}`);
    return created;
  }

  /** The Deployment's revision annotation follows its current ReplicaSet's. */
  async function syncRevisionAnnotation(s: Rollout): Promise<void> {
    if (!s.newRS) return;
    const rev = String(revisionOf(s.newRS));
    if (s.d.metadata.annotations?.[REVISION] === rev) return;
    const updated = await ctx.client.patch(refs.deployments, s.d.metadata.name!, { metadata: { annotations: { [REVISION]: rev } } }, { namespace: s.ns, type: 'merge' });
    s.d.metadata.resourceVersion = updated.metadata.resourceVersion;
  }

  /** Delete the oldest empty old ReplicaSets beyond revisionHistoryLimit. */
  async function cleanupHistory(d: KubeObject, old: KubeObject[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const empty = old.filter((r) => (r.spec?.replicas ?? 0) === 0 && (r.status?.replicas ?? 0) === 0 && !r.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const r of empty.slice(0, Math.max(0, empty.length - limit))) {
      await ctx.client.delete(refs.replicasets, r.metadata.name!, { namespace: r.metadata.namespace }).catch((e) => { if (!isNotFound(e)) throw e; });
    }
  }

  async function writeStatus(d: KubeObject, newRS: KubeObject | undefined, all: KubeObject[], progressed: boolean): Promise<ReconcileResult> {
    const now = ctx.now();
    const status = deploymentStatus(d, newRS, all, now, progressed);
    const cached = dInf.get(keyOf(d));
    if (!deepEqual(status, cached?.status ?? {})) {
      await ctx.client.updateStatus(refs.deployments, { ...d, status }, { namespace: d.metadata.namespace });
    }
    const prog = status.conditions.find((x: any) => x.type === 'Progressing');
    if (prog?.status === 'True' && prog.reason !== 'NewReplicaSetAvailable' && !d.spec?.paused) {
      const deadline = (Date.parse(prog.lastUpdateTime) || now) + (d.spec?.progressDeadlineSeconds ?? 600) * 1000;
      return { requeueAfterMs: Math.max(1000, deadline - now + 1000) };
    }
  }
  return c;
}
