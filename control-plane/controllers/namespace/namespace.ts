// The namespace controller: when a Namespace is being deleted (the API server has set deletionTimestamp
// and phase Terminating and waits for spec.finalizers to empty), delete everything in it, kind by kind
// (every namespaced resource in the registry that can be deleted), wait until nothing is left, then
// remove the `kubernetes` finalizer through PUT /api/v1/namespaces/{name}/finalize, which lets the API
// server delete the Namespace. Pods bound to a node leave only when their node agent confirms, as in kube.

import type { KubeObject } from '../../../api/meta.js';
import { registry } from '../../../api/registry.js';
import { isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { refs } from '../informers.js';
import { setCondition, isoSeconds } from '../podutil.js';

/** The namespaced kinds whose objects a namespace deletion removes (pure; from the registry). */
export function namespacedKinds(): { apiVersion: string; plural: string; namespaced: true; kind: string }[] {
  return registry.all()
    .filter((t) => t.namespaced && t.verbs.includes('list') && (t.verbs.includes('deletecollection') || t.verbs.includes('delete')))
    .map((t) => ({ apiVersion: t.group ? `${t.group}/${t.version}` : t.version, plural: t.plural, namespaced: true as const, kind: t.kind }));
}

/** The namespace lifecycle controller. */
export function namespaceController(ctx: ControllerContext): Controller {
  const nsInf = ctx.informers.for(refs.namespaces);
  const c = new Controller({ name: 'namespace', log: ctx.log, reconcile });
  nsInf.addEventHandler({ onAdd: (n) => c.enqueue(keyOf(n)), onUpdate: (_o, n) => c.enqueue(keyOf(n)) });

  async function reconcile(name: string): Promise<ReconcileResult> {
    const cached = nsInf.get(name);
    if (!cached || !cached.metadata.deletionTimestamp) return;
    if (!(cached.spec?.finalizers ?? []).includes('kubernetes')) return;
    let remaining = 0;
    const left: string[] = [];
    for (const k of namespacedKinds()) {
      let items: KubeObject[];
      try {
        items = (await ctx.client.list(k, { namespace: name })).items;
      } catch (e) {
        if (isNotFound(e)) continue; // not served here
        throw e;
      }
      if (!items.length) continue;
      remaining += items.length;
      left.push(`${k.plural}.${k.apiVersion.split('/').length > 1 ? k.apiVersion.split('/')[0] : ''}`.replace(/\.$/, '') + ` has ${items.length} resource instances`);
      const live = items.filter((o) => !o.metadata.deletionTimestamp);
      for (const o of live) {
        await ctx.client.delete(k, o.metadata.name!, { namespace: name, propagationPolicy: 'Background' }).catch((e) => { if (!isNotFound(e)) throw e; });
      }
    }
    if (remaining > 0) {
      const ns = structuredClone(cached);
      const conds = setCondition(ns.status?.conditions, { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${left.join(', ')}`, lastTransitionTime: isoSeconds(ctx.now()) });
      if (JSON.stringify(conds) !== JSON.stringify(cached.status?.conditions ?? [])) {
        await ctx.client.updateStatus(refs.namespaces, { ...ns, status: { ...(ns.status ?? {}), conditions: conds } }).catch(() => undefined);
      }
      return { requeueAfterMs: 500 };
    }
    const latest = await ctx.client.get(refs.namespaces, name).catch((e) => { if (isNotFound(e)) return undefined; throw e; });
    if (!latest) return;
    latest.spec = { ...(latest.spec ?? {}), finalizers: (latest.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes') };
    const path = await ctx.client.path(refs.namespaces, undefined, name, 'finalize');
    await ctx.client.request('PUT', path, { body: latest }).catch((e) => { if (!isNotFound(e)) throw e; });
  }
  return c;
}
