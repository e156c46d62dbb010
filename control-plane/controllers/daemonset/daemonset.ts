// The DaemonSet controller: one pod per eligible node. A node is eligible when the pod template's
// nodeSelector/affinity match it and its NoSchedule/NoExecute taints are tolerated (the scheduler's own
// filters, with the tolerations kube adds to daemon pods). Pods are created with spec.nodeName set (the
// scheduler is bypassed, as before kube 1.12), extra or misplaced pods are deleted, and RollingUpdate
// replaces pods whose `controller-revision-hash` is stale, at most maxUnavailable at a time.

import type { KubeObject } from '../../../api/meta.js';
import { isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { controllerRef, refs } from '../informers.js';
import { deepEqual, isPodActive, isPodAvailable, isPodReady } from '../podutil.js';
import { podFromTemplate } from '../replicaset/replicaset.js';
import { podTemplateHash, intOrPercent } from '../deployment/rolling.js';
import { matchesNodeAffinity, tolerates } from '../../scheduler/filters.js';

/** Tolerations kube adds to every daemon pod (so daemons run on not-ready and unschedulable nodes). */
export const daemonTolerations = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** Should a daemon pod of `ds` run on `node`? (pure) */
export function shouldRunOn(ds: KubeObject, node: KubeObject): boolean {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { ...(ds.spec?.template?.spec ?? {}), tolerations: [...(ds.spec?.template?.spec?.tolerations ?? []), ...daemonTolerations] } } as KubeObject;
  if (!matchesNodeAffinity(pod, node)) return false;
  return !(node.spec?.taints ?? []).some((t: any) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod, t));
}

/** The plan for one DaemonSet (pure): nodes to create on, pods to delete. */
export function daemonPlan(ds: KubeObject, nodes: KubeObject[], pods: KubeObject[], hash: string, now: number): { create: string[]; delete: KubeObject[] } {
  const byNode = new Map<string, KubeObject[]>();
  const del: KubeObject[] = [];
  for (const p of pods) {
    if (!isPodActive(p)) continue;
    const n = p.spec?.nodeName;
    if (!n) { del.push(p); continue; }
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const create: string[] = [];
  const eligible = new Set<string>();
  for (const node of nodes) {
    const name = node.metadata.name!;
    if (!shouldRunOn(ds, node)) continue;
    eligible.add(name);
    const here = byNode.get(name) ?? [];
    if (!here.length) create.push(name);
    else del.push(...here.sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp))).slice(1));
  }
  for (const [n, ps] of byNode) if (!eligible.has(n)) del.push(...ps);
  // rolling update: stale pods go, as long as unavailable stays within maxUnavailable
  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const maxUnavailable = Math.max(1, intOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, eligible.size, true, 1));
    const current = [...eligible].map((n) => (byNode.get(n) ?? [])[0]).filter((p): p is KubeObject => !!p && !del.includes(p));
    let unavailable = current.filter((p) => !isPodAvailable(p, ds.spec?.minReadySeconds ?? 0, now)).length + create.length;
    for (const p of current) {
      if (p.metadata.labels?.['controller-revision-hash'] === hash) continue;
      const avail = isPodAvailable(p, ds.spec?.minReadySeconds ?? 0, now);
      if (avail && unavailable >= maxUnavailable) continue;
      del.push(p);
      if (avail) unavailable++;
    }
  }
  return { create, delete: del };
}

/** The DaemonSet controller. */
export function daemonSetController(ctx: ControllerContext): Controller {
  const dsInf = ctx.informers.for(refs.daemonsets);
  const podInf = ctx.informers.for(refs.pods);
  const nodeInf = ctx.informers.for(refs.nodes);
  const rec = ctx.recorder('daemonset-controller');
  const c = new Controller({ name: 'daemonset', log: ctx.log, reconcile });
  dsInf.addEventHandler({ onAdd: (o) => c.enqueue(keyOf(o)), onUpdate: (_o, n) => c.enqueue(keyOf(n)), onDelete: (o) => c.enqueue(keyOf(o)) });
  const owner = (p: KubeObject) => {
    const r = controllerRef(p);
    if (r?.kind === 'DaemonSet') c.enqueue(`${p.metadata.namespace}/${r.name}`);
  };
  podInf.addEventHandler({ onAdd: owner, onUpdate: (_o, p) => owner(p), onDelete: owner });
  const all = () => { for (const ds of dsInf.list()) c.enqueue(keyOf(ds)); };
  nodeInf.addEventHandler({ onAdd: all, onUpdate: (o, n) => { if (!deepEqual(o.metadata.labels, n.metadata.labels) || !deepEqual(o.spec, n.spec)) all(); }, onDelete: all });

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = dsInf.get(key);
    if (!cached) return;
    const ds = structuredClone(cached);
    const ns = ds.metadata.namespace!;
    const pods = podInf.list().filter((p) => p.metadata.namespace === ns && controllerRef(p)?.uid === ds.metadata.uid);
    const hash = podTemplateHash(ds.spec?.template);
    const nodes = nodeInf.list();
    const now = ctx.now();
    if (!ds.metadata.deletionTimestamp) {
      const plan = daemonPlan(ds, nodes, pods, hash, now);
      for (const node of plan.create) {
        const tpl = structuredClone(ds.spec.template);
        tpl.spec.tolerations = [...(tpl.spec.tolerations ?? []), ...daemonTolerations.filter((t) => !(tpl.spec.tolerations ?? []).some((x: any) => x.key === t.key))];
        const pod = await ctx.client.create(refs.pods, podFromTemplate(ds, tpl, { nodeName: node, labels: { 'controller-revision-hash': hash } }), { namespace: ns });
        rec.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      }
      for (const p of plan.delete) {
        await ctx.client.delete(refs.pods, p.metadata.name!, { namespace: ns }).catch((e) => { if (!isNotFound(e)) throw e; });
        rec.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      }
    }
    const active = pods.filter(isPodActive);
    const eligible = nodes.filter((n) => shouldRunOn(ds, n)).map((n) => n.metadata.name!);
    const onEligible = active.filter((p) => eligible.includes(p.spec?.nodeName));
    const min = ds.spec?.minReadySeconds ?? 0;
    const available = onEligible.filter((p) => isPodAvailable(p, min, now)).length;
    const status: Record<string, unknown> = {
      currentNumberScheduled: new Set(onEligible.map((p) => p.spec.nodeName)).size,
      numberMisscheduled: new Set(active.filter((p) => !eligible.includes(p.spec?.nodeName)).map((p) => p.spec?.nodeName)).size,
      desiredNumberScheduled: eligible.length,
      numberReady: onEligible.filter(isPodReady).length,
      observedGeneration: ds.metadata.generation ?? 1,
      updatedNumberScheduled: onEligible.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash).length,
      numberAvailable: available,
      numberUnavailable: Math.max(0, eligible.length - available),
    };
    if (!deepEqual(status, cached.status ?? {})) await ctx.client.updateStatus(refs.daemonsets, { ...ds, status }, { namespace: ns });
  }
  return c;
}
