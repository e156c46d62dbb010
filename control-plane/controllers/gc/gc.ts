// The garbage collector, after kube's: it watches every deletable kind, keeps a graph uid → object and
// owner uid → dependents, and for each changed object (queue keys are uids):
//   - orphan:     an owner being deleted with the `orphan` finalizer loses nothing; its dependents lose
//                 their ownerReference to it, then the finalizer goes;
//   - foreground: an owner being deleted with the `foregroundDeletion` finalizer first has its dependents
//                 deleted (themselves in the foreground), and keeps the finalizer until no dependent with
//                 blockOwnerDeletion is left;
//   - background: a dependent whose owners are all gone (checked with a live GET, never trusting a lagging
//                 cache for absence) is deleted; one with only some owners gone drops those references.

import type { KubeObject, OwnerReference } from '../../../api/meta.js';
import { registry } from '../../../api/registry.js';
import { isNotFound } from '../../../api/client/index.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import type { InformerRef } from '../informers.js';

interface Node {
  ref: InformerRef;
  obj: KubeObject;
}

/** The kinds the collector watches: everything listable, watchable and deletable but Events. */
export function collectedKinds(): InformerRef[] {
  return registry.all()
    .filter((t) => t.verbs.includes('watch') && t.verbs.includes('delete') && t.kind !== 'Event')
    .map((t) => ({ apiVersion: t.group ? `${t.group}/${t.version}` : t.version, plural: t.plural, namespaced: t.namespaced }));
}

/** What the collector should do with one object given which owners exist (pure). */
export function ownerVerdict(obj: KubeObject, exists: (r: OwnerReference) => boolean): { action: 'none' } | { action: 'delete' } | { action: 'trim'; keep: OwnerReference[] } {
  const refs = obj.metadata.ownerReferences ?? [];
  if (!refs.length || obj.metadata.deletionTimestamp) return { action: 'none' };
  const keep = refs.filter(exists);
  if (keep.length === refs.length) return { action: 'none' };
  if (keep.length === 0) return { action: 'delete' };
  return { action: 'trim', keep };
}

/** The garbage collector controller. */
export function garbageCollector(ctx: ControllerContext, kinds: InformerRef[] = collectedKinds()): Controller & { graphSize(): number } {
  const nodes = new Map<string, Node>();
  const dependents = new Map<string, Set<string>>();
  const c = new Controller({ name: 'garbagecollector', log: ctx.log, reconcile, workers: 4 });

  const link = (o: KubeObject, on: boolean) => {
    for (const r of o.metadata.ownerReferences ?? []) {
      let s = dependents.get(r.uid);
      if (on) {
        if (!s) dependents.set(r.uid, (s = new Set()));
        s.add(o.metadata.uid!);
      } else if (s) {
        s.delete(o.metadata.uid!);
        if (!s.size) dependents.delete(r.uid);
      }
    }
  };
  const interesting = (o: KubeObject) => (o.metadata.ownerReferences?.length ?? 0) > 0 || (!!o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).some((f) => f === 'orphan' || f === 'foregroundDeletion'));
  for (const ref of kinds) {
    const inf = ctx.informers.for(ref);
    inf.addEventHandler({
      onAdd(o) {
        nodes.set(o.metadata.uid!, { ref, obj: o });
        link(o, true);
        if (interesting(o)) c.enqueue(o.metadata.uid!);
      },
      onUpdate(old, o) {
        link(old, false);
        nodes.set(o.metadata.uid!, { ref, obj: o });
        link(o, true);
        if (interesting(o)) c.enqueue(o.metadata.uid!);
      },
      onDelete(o) {
        nodes.delete(o.metadata.uid!);
        link(o, false);
        for (const d of dependents.get(o.metadata.uid!) ?? []) c.enqueue(d);
        for (const r of o.metadata.ownerReferences ?? []) c.enqueue(r.uid); // a waiting foreground owner
      },
    });
  }

  async function ownerExists(obj: KubeObject, r: OwnerReference): Promise<boolean> {
    if (nodes.get(r.uid)) return true;
    const rt = registry.byKind(r.apiVersion, r.kind);
    if (!rt) return false;
    const ref = { apiVersion: r.apiVersion, plural: rt.plural, namespaced: rt.namespaced };
    try {
      const live = await ctx.client.get(ref, r.name, { namespace: rt.namespaced ? obj.metadata.namespace : undefined });
      return live.metadata.uid === r.uid;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  const patchMeta = (n: Node, meta: Record<string, unknown>) =>
    ctx.client.patch(n.ref, n.obj.metadata.name!, { metadata: { ...meta, resourceVersion: n.obj.metadata.resourceVersion } }, { namespace: n.obj.metadata.namespace, type: 'merge' })
      .catch((e) => { if (!isNotFound(e)) throw e; });
  const del = (n: Node, policy: 'Background' | 'Foreground') =>
    ctx.client.delete(n.ref, n.obj.metadata.name!, { namespace: n.obj.metadata.namespace, propagationPolicy: policy, preconditions: { uid: n.obj.metadata.uid } })
      .catch((e) => { if (!isNotFound(e)) throw e; });

  async function reconcile(uid: string): Promise<ReconcileResult> {
    const n = nodes.get(uid);
    if (!n) return;
    const o = n.obj;
    const fin = o.metadata.finalizers ?? [];
    const deps = [...(dependents.get(uid) ?? [])].map((d) => nodes.get(d)).filter((d): d is Node => !!d);
    if (o.metadata.deletionTimestamp && fin.includes('orphan')) {
      for (const d of deps) await patchMeta(d, { ownerReferences: (d.obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid) });
      await patchMeta(n, { finalizers: fin.filter((f) => f !== 'orphan') });
      return;
    }
    if (o.metadata.deletionTimestamp && fin.includes('foregroundDeletion')) {
      for (const d of deps) if (!d.obj.metadata.deletionTimestamp) await del(d, 'Foreground');
      const blocking = deps.filter((d) => (d.obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion));
      if (blocking.length) return { requeueAfterMs: 1000 }; // their deletions also wake us
      await patchMeta(n, { finalizers: fin.filter((f) => f !== 'foregroundDeletion') });
      return;
    }
    const present = new Map<string, boolean>();
    for (const r of o.metadata.ownerReferences ?? []) present.set(r.uid, await ownerExists(o, r));
    const v = ownerVerdict(o, (r) => present.get(r.uid) ?? true);
    if (v.action === 'delete') await del(n, 'Background');
    else if (v.action === 'trim') await patchMeta(n, { ownerReferences: v.keep });
  }

  return Object.assign(c, { graphSize: () => nodes.size });
}
