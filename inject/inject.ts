// The injector: decide (policy.ts), then add the sidecar template (template.ts) to a Pod or to the pod
// template of a workload. Pure: objects in, a new object out (the input is never mutated). The three front
// ends (the API server's admission step, `shoal inject -f`, the AdmissionReview webhook) call this, so
// they all produce the same pod.

import { type CaptureError, validateCaptureAnnotations } from './capture.js';
import { decide, type Decision } from './policy.js';
import { rewriteProbes, rewriteWanted } from './probes.js';
import {
  CA_VOLUME, INIT_NAME, PROXY_NAME, SA_MOUNT, caVolume, canonicalLabels, initContainer, podAnnotations, proxyContainer,
} from './template.js';

/** Injection could not be done (bad annotations); `errors` name the fields. */
export class InjectError extends Error {
  constructor(readonly errors: CaptureError[], prefix = '') {
    super(errors.map((e) => `${prefix}${e.field}: Invalid value: ${JSON.stringify(e.value)}: ${e.detail}`).join('; '));
    this.name = 'InjectError';
  }
}

/** How to decide for a pod whose namespace is not known or not labelled. */
export interface InjectOptions {
  /** the namespace's labels (undefined: unknown) */
  namespaceLabels?: Record<string, string>;
  /** inject when nothing says so either way (`shoal inject -f`); false for admission */
  defaultInject?: boolean;
}

/** The result for one pod (spec) or workload. */
export interface InjectResult {
  decision: Decision;
  /** the injected object, or the input unchanged (same reference) when not injected */
  object: any;
}

const clone = <T>(v: T): T => structuredClone(v);

/** Istio's workload name of a pod: its controller with the generated suffix removed. */
export function workloadName(meta: any): string {
  const owner = (meta.ownerReferences ?? []).find((o: any) => o.controller) ?? meta.ownerReferences?.[0];
  const hash = meta.labels?.['pod-template-hash'];
  if (owner?.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  if (owner?.kind === 'Job' && /-\d{8,}$/.test(owner.name)) return owner.name.replace(/-\d{8,}$/, ''); // CronJob's jobs
  if (owner) return owner.name;
  if (meta.name) return meta.name;
  if (meta.generateName) return String(meta.generateName).replace(/-$/, '');
  return 'unknown';
}

/**
 * Injects a pod spec in place of a copy. `meta` is the pod's (or template's) metadata; `workload` the
 * owning workload's name. Returns the new {metadata, spec}.
 */
function injectSpec(meta: any, spec: any, namespace: string, workload: string): { metadata: any; spec: any } {
  const m = clone(meta ?? {});
  const s = clone(spec ?? {});
  const annotations: Record<string, string> = m.annotations ?? {};
  const containers: any[] = s.containers ?? [];
  const tokenMount = containers.flatMap((c) => c.volumeMounts ?? []).find((v: any) => v.mountPath === SA_MOUNT);
  const probers = rewriteWanted(annotations) ? rewriteProbes(containers) : {};
  const proxy = proxyContainer({
    namespace, workloadName: workload, serviceAccount: s.serviceAccountName ?? s.serviceAccount ?? 'default', annotations, containers, tokenMount,
  });
  if (Object.keys(probers).length) proxy.env.push({ name: 'ISTIO_KUBE_APP_PROBERS', value: JSON.stringify(probers) });
  s.initContainers = [initContainer(annotations), proxy, ...(s.initContainers ?? []).filter((c: any) => c.name !== INIT_NAME && c.name !== PROXY_NAME)];
  s.volumes = [...(s.volumes ?? []).filter((v: any) => v.name !== CA_VOLUME), caVolume()];
  m.annotations = { ...annotations, ...podAnnotations(containers[0]?.name) };
  m.labels = { ...(m.labels ?? {}), ...canonicalLabels(m.labels ?? {}, workload) };
  return { metadata: m, spec: s };
}

function checkAnnotations(meta: any, prefix: string): void {
  const errs = validateCaptureAnnotations(meta?.annotations);
  if (errs.length) throw new InjectError(errs.map((e) => ({ ...e, field: `${prefix}${e.field}` })));
}

/** Injects a Pod. Throws InjectError (with field paths) on bad capture annotations of a pod to inject. */
export function injectPod(pod: any, opts: InjectOptions = {}): InjectResult {
  const meta = pod.metadata ?? {};
  const decision = decide(meta, !!pod.spec?.hostNetwork, opts.namespaceLabels, opts.defaultInject);
  if (!decision.inject) return { decision, object: pod };
  checkAnnotations(meta, '');
  const ns = meta.namespace ?? 'default';
  const { metadata, spec } = injectSpec(meta, pod.spec, ns, workloadName(meta));
  return { decision, object: { ...pod, metadata, spec } };
}

/** Where the pod template sits in each workload kind. */
const TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Whether the injector handles this kind (Pod or a workload with a pod template). */
export function injectable(kind: string | undefined): boolean {
  return kind === 'Pod' || (!!kind && kind in TEMPLATE_PATHS);
}

/**
 * Injects a Pod or a workload's pod template (any other kind is returned unchanged, decision not-inject).
 * For templates the namespace is the workload's, and the workload's name is the pod's workload name.
 */
export function injectObject(obj: any, opts: InjectOptions = {}): InjectResult {
  if (obj?.kind === 'Pod') return injectPod(obj, opts);
  const path = TEMPLATE_PATHS[obj?.kind];
  if (!path) return { decision: { inject: false, reason: `kind ${obj?.kind ?? '(none)'} has no pod template` }, object: obj };
  let tpl: any = obj;
  for (const k of path) tpl = tpl?.[k];
  if (!tpl || typeof tpl !== 'object') return { decision: { inject: false, reason: `${obj.kind} has no ${path.join('.')}` }, object: obj };
  const ns = obj.metadata?.namespace ?? 'default';
  const meta = { ...(tpl.metadata ?? {}), namespace: ns };
  const decision = decide(meta, !!tpl.spec?.hostNetwork, opts.namespaceLabels, opts.defaultInject);
  if (!decision.inject) return { decision, object: obj };
  checkAnnotations(tpl.metadata, `${path.join('.')}.`);
  const { metadata, spec } = injectSpec(tpl.metadata, tpl.spec, ns, obj.metadata?.name ?? 'unknown');
  const out = clone(obj);
  let parent: any = out;
  for (const k of path.slice(0, -1)) parent = parent[k];
  parent[path[path.length - 1]!] = { ...tpl, metadata, spec };
  return { decision, object: out };
}
