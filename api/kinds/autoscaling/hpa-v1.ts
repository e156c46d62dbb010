// autoscaling/v1 HorizontalPodAutoscaler: the older shape (one `targetCPUUtilizationPercentage`), still what
// kubectl 1.32's `kubectl autoscale` posts. Objects are stored once, as autoscaling/v2 (the same
// /registry/autoscaling/horizontalpodautoscalers/ keys); the API server converts at the edge
// (control-plane/apiserver/conversion/hpa-v1.ts) with these functions. A v1 write changes only what v1 can
// express, so a v2 object's other metrics and its behavior survive an update through v1 (kube keeps them
// in annotations for the same reason).

import type { KubeObject } from '../../meta.js';
import { int, obj, str } from '../../schema/schema.js';
import { kindSchema } from '../common.js';
import { defineKind } from '../define.js';
import { horizontalPodAutoscaler } from './hpa.js';

const v1Schema = kindSchema({
  spec: obj({
    scaleTargetRef: obj({ apiVersion: str, kind: str, name: str }, ['kind', 'name']),
    minReplicas: int,
    maxReplicas: int,
    targetCPUUtilizationPercentage: int,
  }, ['scaleTargetRef', 'maxReplicas']),
  status: obj({ observedGeneration: int, lastScaleTime: str, currentReplicas: int, desiredReplicas: int, currentCPUUtilizationPercentage: int }),
}, ['spec']);

const v1Def = defineKind({
  group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers',
  shortNames: ['hpa'], namespaced: true, status: true,
  schema: v1Schema,
  columns: horizontalPodAutoscaler.columns,
  cells: (o, now) => horizontalPodAutoscaler.cells(toV2(o), now),
});

/** autoscaling/v1 HorizontalPodAutoscaler: no watch (clients watch the preferred v2). */
export const horizontalPodAutoscalerV1 = { ...v1Def, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'] };

const isCpu = (m: any) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization';

/** v2 → v1 (the cpu utilization metric becomes targetCPUUtilizationPercentage). */
export function toV1(o: KubeObject): KubeObject {
  const spec = o.spec ?? {};
  const cpu = (spec.metrics ?? []).find(isCpu);
  const cur = (o.status?.currentMetrics ?? []).find((m: any) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const st = o.status ?? {};
  return {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: o.metadata,
    spec: {
      scaleTargetRef: spec.scaleTargetRef,
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      maxReplicas: spec.maxReplicas,
      ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}),
    },
    status: {
      ...(st.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
      ...(st.lastScaleTime ? { lastScaleTime: st.lastScaleTime } : {}),
      currentReplicas: st.currentReplicas ?? 0,
      desiredReplicas: st.desiredReplicas ?? 0,
      ...(cur?.resource?.current?.averageUtilization !== undefined ? { currentCPUUtilizationPercentage: cur.resource.current.averageUtilization } : {}),
    },
  };
}

/** v1 → v2; with `base` (the stored v2 object) only the fields v1 expresses are replaced. */
export function toV2(o: KubeObject, base?: KubeObject): KubeObject {
  const spec = o.spec ?? {};
  const out: KubeObject = base ? structuredClone(base) : { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {}, spec: {} };
  out.apiVersion = 'autoscaling/v2';
  out.kind = 'HorizontalPodAutoscaler';
  out.metadata = { ...(o.metadata ?? {}) };
  const s: Record<string, any> = { ...(out.spec ?? {}) };
  s.scaleTargetRef = spec.scaleTargetRef;
  if (spec.minReplicas !== undefined) s.minReplicas = spec.minReplicas;
  else delete s.minReplicas;
  s.maxReplicas = spec.maxReplicas;
  const others = (s.metrics ?? []).filter((m: any) => !isCpu(m));
  if (spec.targetCPUUtilizationPercentage !== undefined) s.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }, ...others];
  else if (base) s.metrics = others.length ? others : undefined;
  else delete s.metrics;
  if (s.metrics === undefined) delete s.metrics;
  out.spec = s;
  if (!base && o.status) {
    const st = o.status;
    out.status = {
      ...(st.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
      ...(st.lastScaleTime ? { lastScaleTime: st.lastScaleTime } : {}),
      ...(st.currentReplicas !== undefined ? { currentReplicas: st.currentReplicas } : {}),
      ...(st.desiredReplicas !== undefined ? { desiredReplicas: st.desiredReplicas } : {}),
      ...(st.currentCPUUtilizationPercentage !== undefined ? { currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: st.currentCPUUtilizationPercentage } } }] } : {}),
    };
  }
  return out;
}
