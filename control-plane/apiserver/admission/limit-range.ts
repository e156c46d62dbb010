// LimitRanger, as kube-apiserver's admission plugin: for a Pod being created, every LimitRange of its
// namespace first fills in what containers leave out (type Container: `default` → limits,
// `defaultRequest` → requests, else a request defaults to its limit) and records it in the annotation
// `kubernetes.io/limit-ranger`; then checks `min`, `max` and `maxLimitRequestRatio` per Container and per Pod
// (the sum over containers). Violations are one 403 with kube's texts, e.g. `pods "web" is forbidden:
// maximum cpu usage per Container is 1, but limit is 2`.

import { ApiError } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { tryParseQuantity } from '../../../api/quantity.js';
import { registry } from '../api-adapter.js';
import type { ObjectStore } from '../storage/objects.js';
import type { AdmissionPlugin, AdmissionRequest, AdmissionResult } from './chain.js';
import { formatFor } from './quota-usage.js';

const lrRt = () => registry.get('', 'v1', 'limitranges') as ResourceType;
const q = (v: unknown) => (v === undefined ? undefined : tryParseQuantity(v as string));

/** Go's %f: six decimals. */
const goFloat = (n: number) => n.toFixed(6);

function items(ranges: KubeObject[], type: string): any[] {
  return ranges.flatMap((r) => (r.spec?.limits ?? []).filter((i: any) => i.type === type));
}

/** Applies Container defaults in place; returns the annotation text or '' when nothing was set. */
function applyDefaults(pod: KubeObject, ranges: KubeObject[]): string {
  const notes: string[] = [];
  for (const item of items(ranges, 'Container')) {
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const res = (c.resources ??= {});
      const setReq: string[] = [];
      const setLim: string[] = [];
      for (const [k, v] of Object.entries(item.default ?? {})) {
        if (res.limits?.[k] === undefined) {
          (res.limits ??= {})[k] = v;
          setLim.push(k);
        }
      }
      for (const [k, v] of Object.entries(item.defaultRequest ?? {})) {
        if (res.requests?.[k] === undefined) {
          (res.requests ??= {})[k] = v;
          setReq.push(k);
        }
      }
      const what = (pod.spec?.containers ?? []).includes(c) ? 'container' : 'init container';
      if (setReq.length) notes.push(`${setReq.join(', ')} request for ${what} ${c.name}`);
      if (setLim.length) notes.push(`${setLim.join(', ')} limit for ${what} ${c.name}`);
    }
  }
  return notes.length ? `LimitRanger plugin set: ${notes.join('; ')}` : '';
}

/** minConstraint / maxConstraint / limitRequestRatioConstraint for one resource. */
function check(errs: string[], limitType: string, item: any, req: Record<string, unknown>, lim: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(item.min ?? {})) {
    const r = q(req[k]);
    if (r === undefined) errs.push(`minimum ${k} usage per ${limitType} is ${v}.  No request is specified`);
    else if (r < q(v)!) errs.push(`minimum ${k} usage per ${limitType} is ${v}, but request is ${req[k]}`);
  }
  for (const [k, v] of Object.entries(item.max ?? {})) {
    const l = q(lim[k]);
    if (l === undefined) errs.push(`maximum ${k} usage per ${limitType} is ${v}.  No limit is specified`);
    else if (l > q(v)!) errs.push(`maximum ${k} usage per ${limitType} is ${v}, but limit is ${lim[k]}`);
  }
  for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const r = q(req[k]);
    const l = q(lim[k]);
    if (l === undefined) errs.push(`${k} max limit to request ratio per ${limitType} is ${v}, but no limit is specified`);
    else if (!r) errs.push(`${k} max limit to request ratio per ${limitType} is ${v}, but no request is specified or request is 0`);
    else if (l / r > q(v)!) errs.push(`${k} max limit to request ratio per ${limitType} is ${v}, but provided ratio is ${goFloat(l / r)}`);
  }
}

const sumOf = (cs: any[], kind: 'requests' | 'limits') => {
  const out: Record<string, number> = {};
  for (const c of cs) for (const [k, v] of Object.entries(c.resources?.[kind] ?? {})) out[k] = (out[k] ?? 0) + (q(v) ?? 0);
  return out;
};

/** The plugin. */
export function limitRangerPlugin(objects: ObjectStore): AdmissionPlugin {
  const rangesOf = async (ns: string) => (await objects.list(lrRt(), ns)).items;
  return {
    name: 'LimitRanger',
    resources: ['pods'],
    async mutate(req: AdmissionRequest): Promise<AdmissionResult> {
      if (req.operation !== 'CREATE' || !req.object || req.subresource) return { allowed: true };
      const ranges = await rangesOf(req.namespace);
      if (!ranges.length) return { allowed: true };
      const note = applyDefaults(req.object, ranges);
      if (note) req.object.metadata.annotations = { ...(req.object.metadata.annotations ?? {}), 'kubernetes.io/limit-ranger': note };
      return { allowed: true };
    },
    async validate(req: AdmissionRequest): Promise<AdmissionResult> {
      if (req.operation !== 'CREATE' || !req.object || req.subresource) return { allowed: true };
      const ranges = await rangesOf(req.namespace);
      if (!ranges.length) return { allowed: true };
      const pod = req.object;
      const errs: string[] = [];
      const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
      for (const item of items(ranges, 'Container')) for (const c of all) check(errs, 'Container', item, c.resources?.requests ?? {}, c.resources?.limits ?? {});
      for (const item of items(ranges, 'Pod')) {
        const cs = pod.spec?.containers ?? [];
        const fmt = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, formatFor(k, v)]));
        check(errs, 'Pod', item, fmt(sumOf(cs, 'requests')), fmt(sumOf(cs, 'limits')));
      }
      if (!errs.length) return { allowed: true };
      const name = pod.metadata.name ?? pod.metadata.generateName ?? '';
      throw new ApiError('Forbidden', `pods ${JSON.stringify(name)} is forbidden: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}`, { group: '', kind: 'pods', name });
    },
  };
}
