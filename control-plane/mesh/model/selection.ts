// Which PeerAuthentication and AuthorizationPolicies apply to a workload, and why: istiod's selection
// (pilot/pkg/model/authentication.go and authorization.go) as pure functions, shared by the config
// compiler (what the proxy gets) and `shoal describe pod` (what the user is told).
//
// PeerAuthentication: the candidates are the policies of the workload's namespace and of the root
// namespace whose selector is a subset of the pod's labels. The oldest (creationTimestamp, then name)
// mesh-level (root namespace, no selector), namespace-level (no selector) and workload-level (selector, not
// in the root namespace; root-namespace policies with a selector are ignored, as Istio does) policy each
// count; the mode starts PERMISSIVE and each level that is not UNSET overrides it, in that order. Port-level
// modes come from the workload policy only; an UNSET port inherits the workload's effective mode.
//
// AuthorizationPolicy: every policy of the workload's namespace and of the root namespace whose selector
// matches (no selector: all workloads of that namespace, or the whole mesh from the root namespace), or
// whose targetRef(s) name a Service (core group) in the policy's namespace that selects the pod.

import type { KubeObject } from '../../../api/meta.js';

/** Istio's default root namespace. */
export const ROOT_NAMESPACE = 'istio-system';

export type Mode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The pod as selection sees it. */
export interface WorkloadRef {
  namespace: string;
  labels: Record<string, string>;
}

/** One policy considered, with whether it counts and the reason. */
export interface Selected {
  policy: KubeObject;
  level: 'mesh' | 'namespace' | 'workload';
  applies: boolean;
  why: string;
}

/** The effective PeerAuthentication of a workload. */
export interface EffectivePeerAuthn {
  mode: Mode;
  portModes: Record<number, Mode>;
  /** `<ns>/<name>` of the policies that decided it, most specific first */
  sources: string[];
  considered: Selected[];
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** matchLabels ⊆ labels (an empty or missing selector matches everything). */
export function selectorMatches(matchLabels: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(matchLabels ?? {})) if (labels[k] !== v) return false;
  return true;
}

function hasSelector(o: KubeObject): boolean {
  return Object.keys((o as any).spec?.selector?.matchLabels ?? {}).length > 0;
}

function selectorText(o: KubeObject): string {
  return Object.entries((o as any).spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Older first: creationTimestamp, then namespace/name (Istio's tie-break). */
export function olderFirst(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0;
}

function modeOf(m: any): Mode | undefined {
  const mode = m?.mode;
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : undefined;
}

/** Selects and merges PeerAuthentications for `w`; `all` may hold every namespace's policies. */
export function effectivePeerAuthentication(w: WorkloadRef, all: KubeObject[], root = ROOT_NAMESPACE): EffectivePeerAuthn {
  const considered: Selected[] = [];
  const winners: Partial<Record<Selected['level'], KubeObject>> = {};
  const candidates = all.filter((p) => p.metadata.namespace === w.namespace || p.metadata.namespace === root).sort(olderFirst);
  for (const p of candidates) {
    const inRoot = p.metadata.namespace === root;
    const sel = hasSelector(p);
    if (sel && !selectorMatches((p as any).spec.selector.matchLabels, w.labels)) continue;
    let level: Selected['level'];
    let why: string;
    if (!sel) {
      level = inRoot ? 'mesh' : 'namespace';
      why = inRoot ? `mesh-wide: no selector in the root namespace ${root}` : `namespace-wide: no selector in namespace ${w.namespace}`;
    } else if (inRoot && w.namespace !== root) {
      considered.push({ policy: p, level: 'workload', applies: false, why: `ignored: a selector (${selectorText(p)}) in the root namespace does not apply to workloads (Istio)` });
      continue;
    } else {
      level = 'workload';
      why = `workload: selector ${selectorText(p)} matches the pod's labels`;
    }
    if (winners[level]) {
      considered.push({ policy: p, level, applies: false, why: `ignored: ${keyOf(winners[level]!)} is older at the same level` });
      continue;
    }
    winners[level] = p;
    considered.push({ policy: p, level, applies: true, why });
  }
  let mode: Mode = 'PERMISSIVE';
  const sources: string[] = [];
  for (const level of ['mesh', 'namespace', 'workload'] as const) {
    const p = winners[level];
    const m = modeOf((p as any)?.spec?.mtls);
    if (p && m) {
      mode = m;
      sources.unshift(keyOf(p));
    }
  }
  const portModes: Record<number, Mode> = {};
  const wl = winners.workload as any;
  for (const [port, setting] of Object.entries(wl?.spec?.portLevelMtls ?? {})) {
    portModes[Number(port)] = modeOf(setting) ?? mode;
    if (!sources.includes(keyOf(wl))) sources.unshift(keyOf(wl));
  }
  return { mode, portModes, sources, considered };
}

/** A Service as targetRef resolution needs it. */
export interface ServiceRef {
  namespace: string;
  name: string;
  selector?: Record<string, string>;
}

function targetRefsOf(p: any): any[] {
  return [...(p.spec?.targetRef ? [p.spec.targetRef] : []), ...(p.spec?.targetRefs ?? [])];
}

/** AuthorizationPolicies that apply to `w`, each with the reason; `services` resolves targetRefs. */
export function applicableAuthorizationPolicies(w: WorkloadRef, all: KubeObject[], services: (ns: string, name: string) => ServiceRef | undefined, root = ROOT_NAMESPACE): Selected[] {
  const out: Selected[] = [];
  for (const p of [...all].sort(olderFirst)) {
    const ns = p.metadata.namespace!;
    if (ns !== w.namespace && ns !== root) continue;
    const inRoot = ns === root && w.namespace !== root;
    const refs = targetRefsOf(p);
    if (refs.length) {
      const hit = refs.find((r) => (r.group ?? '') === '' && r.kind === 'Service' && (!r.namespace || r.namespace === ns) && (() => {
        const svc = services(ns, r.name);
        return !!svc?.selector && Object.keys(svc.selector).length > 0 && selectorMatches(svc.selector, w.labels) && (ns === w.namespace);
      })());
      if (hit) out.push({ policy: p, level: 'workload', applies: true, why: `targetRef Service ${ns}/${hit.name} selects the pod` });
      continue;
    }
    if (hasSelector(p)) {
      if (!selectorMatches((p as any).spec.selector.matchLabels, w.labels)) continue;
      out.push({ policy: p, level: 'workload', applies: true, why: `selector ${selectorText(p)} matches the pod's labels${inRoot ? ` (root namespace ${root}: any namespace)` : ''}` });
    } else {
      out.push({ policy: p, level: inRoot ? 'mesh' : 'namespace', applies: true, why: inRoot ? `mesh-wide: no selector in the root namespace ${root}` : `namespace-wide: no selector in namespace ${w.namespace}` });
    }
  }
  return out;
}
