// The horizontal pod autoscaler controller: every HPA is synced when it changes and then every sync period
// (kube's --horizontal-pod-autoscaler-sync-period, 15 s). A sync (sync.ts) reads the target through its
// `/scale` subresource (Deployment, ReplicaSet, or any kind the registry serves with one), the pods its
// scale selector picks from the informer cache, and their metrics from metrics.k8s.io; it writes the
// target's scale, then the HPA's status (last, and only when it changed).

import type { KubeObject } from '../../../api/meta.js';
import { isNotFound, keyOf } from '../../../api/client/index.js';
import { registry } from '../../../api/registry.js';
import { realClock, type Clock } from '../../../lib/time/clock.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { refs } from '../informers.js';
import { deepEqual } from '../podutil.js';
import { HpaMemory } from './behavior.js';
import { apiMetricsSource, type MetricsSource } from './metrics.js';
import { syncHpa, type ScaleView } from './sync.js';

/** The HPA resource. */
export const hpaRef = { apiVersion: 'autoscaling/v2', plural: 'horizontalpodautoscalers', namespaced: true };

/** Options of the controller. */
export interface HpaOptions {
  /** default 15 s */
  syncPeriodMs?: number;
  /** default 5 min (kube's --horizontal-pod-autoscaler-downscale-stabilization) */
  downscaleStabilizationMs?: number;
  metrics?: MetricsSource;
  clock?: Clock;
}

/** The target's REST coordinates from scaleTargetRef, or an error naming what is wrong. */
export function scaleTarget(ref: { apiVersion?: string; kind?: string }): { apiVersion: string; plural: string; namespaced: true } {
  const rt = (ref.apiVersion ? registry.byKind(ref.apiVersion, ref.kind ?? '') : undefined) ?? registry.resolve(ref.kind ?? '');
  if (!rt || rt.kind !== ref.kind) throw new Error(`no matches for kind "${ref.kind}" in group "${(ref.apiVersion ?? '').split('/').slice(0, -1).join('/')}"`);
  if (!rt.subresources.scale) throw new Error(`${rt.kind} does not have a scale subresource`);
  return { apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version, plural: rt.plural, namespaced: true };
}

/** The HPA controller. */
export function hpaController(ctx: ControllerContext, o: HpaOptions = {}): Controller {
  const syncPeriodMs = o.syncPeriodMs ?? 15_000;
  const clock = o.clock ?? realClock;
  const memory = new HpaMemory(o.downscaleStabilizationMs);
  const metrics = o.metrics ?? apiMetricsSource(ctx.client);
  const hpas = ctx.informers.for(hpaRef);
  const pods = ctx.informers.for(refs.pods);
  const rec = ctx.recorder('horizontal-pod-autoscaler');
  const c = new Controller({ name: 'horizontalpodautoscaling', log: ctx.log, clock, reconcile });
  // our own status writes must not trigger a sync: only new, deleted and re-specified HPAs jump the period
  hpas.addEventHandler({
    onAdd: (h) => c.enqueue(keyOf(h)),
    onUpdate: (old, cur) => { if (old.metadata.generation !== cur.metadata.generation) c.enqueue(keyOf(cur)); },
    onDelete: (h) => c.enqueue(keyOf(h)),
  });

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = hpas.get(key);
    if (!cached) {
      memory.forget(key);
      return;
    }
    const hpa = structuredClone(cached);
    const ns = hpa.metadata.namespace!;
    const r = await syncHpa(hpa, {
      async getScale(h): Promise<ScaleView> {
        const s = await ctx.client.getScale(scaleTarget(h.spec.scaleTargetRef), h.spec.scaleTargetRef.name, { namespace: ns });
        return { specReplicas: s.spec?.replicas ?? 0, statusReplicas: s.status?.replicas ?? 0, selector: s.status?.selector ?? '' };
      },
      async setScale(h, replicas) {
        await ctx.client.scale(scaleTarget(h.spec.scaleTargetRef), h.spec.scaleTargetRef.name, replicas, { namespace: ns });
      },
      pods: (namespace) => pods.list().filter((p: KubeObject) => p.metadata.namespace === namespace),
      metrics,
      memory,
      now: clock.now(),
      event: (type, reason, message) => rec.event(hpa, type, reason, message),
    });
    const strip = (s: any) => ({ ...s, conditions: (s?.conditions ?? []).map((x: any) => ({ ...x, lastTransitionTime: undefined })) });
    if (!deepEqual(strip(r.status), strip(cached.status ?? {})) || r.rescaled) {
      try {
        await ctx.client.updateStatus(hpaRef, { ...hpa, status: r.status });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
    }
    return { requeueAfterMs: syncPeriodMs };
  }
  return c;
}
