// Whether a pod gets a sidecar: Istio's injectRequired, with the namespace selection that Istio's two
// default webhooks (namespace.sidecar-injector / object.sidecar-injector) express as selectors.
//
//   hostNetwork, kube-system/kube-public, already injected            → never
//   namespace istio-injection=disabled (or shoal.io/inject=disabled)  → never (the pod cannot opt in)
//   pod label sidecar.istio.io/inject, else the annotation of that name (label wins, as in Istio):
//     y|yes|true|on → inject;  any other non-empty value → do not;  absent → the namespace decides
//   namespace istio-injection=enabled or shoal.io/inject=enabled      → inject
//   namespace (without istio-injection) or pod labelled istio.io/rev=default → inject (revision labels;
//     Shoal has one revision, `default`; another revision name selects nothing)

/** The pod label / annotation that opts a pod in or out. */
export const INJECT_KEY = 'sidecar.istio.io/inject';
/** Istio's injection status annotation: present means already injected. */
export const STATUS_KEY = 'sidecar.istio.io/status';
/** Namespace labels that turn injection on (value `enabled`) or off (value `disabled`). */
export const NAMESPACE_LABELS = ['istio-injection', 'shoal.io/inject'] as const;
/** The revision label and the one revision Shoal serves. */
export const REV_LABEL = 'istio.io/rev';
export const REVISION = 'default';
/** Namespaces Istio never injects into. */
export const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public']);

/** What the injector needs to know about a pod (or a workload's pod template). */
export interface PodMeta {
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The decision and why (the reason is logged and shown by `shoal inject`). */
export interface Decision {
  inject: boolean;
  reason: string;
}

/**
 * Decides injection. `nsLabels` are the namespace's labels; `defaultInject` is what an unlabelled
 * namespace means (false for admission; true for `shoal inject -f`, as `istioctl kube-inject`).
 */
export function decide(meta: PodMeta, hostNetwork: boolean, nsLabels: Record<string, string> | undefined, defaultInject = false): Decision {
  if (hostNetwork) return { inject: false, reason: 'hostNetwork pods are never injected' };
  if (meta.annotations?.[STATUS_KEY]) return { inject: false, reason: `already injected (${STATUS_KEY} is set)` };
  const ns = meta.namespace ?? 'default';
  if (IGNORED_NAMESPACES.has(ns)) return { inject: false, reason: `namespace ${ns} is never injected` };
  const nsValues = NAMESPACE_LABELS.map((k) => [k, nsLabels?.[k]] as const);
  const disabled = nsValues.find(([, v]) => v === 'disabled');
  if (disabled) return { inject: false, reason: `namespace ${ns} has ${disabled[0]}=disabled` };
  const label = meta.labels?.[INJECT_KEY];
  const selector = label ?? meta.annotations?.[INJECT_KEY] ?? '';
  const from = label !== undefined ? 'label' : 'annotation';
  switch (selector.toLowerCase()) {
    case 'y': case 'yes': case 'true': case 'on':
      return { inject: true, reason: `pod ${from} ${INJECT_KEY}=${selector}` };
    case '':
      break;
    default:
      return { inject: false, reason: `pod ${from} ${INJECT_KEY}=${selector}` };
  }
  const enabled = nsValues.find(([, v]) => v === 'enabled');
  if (enabled) return { inject: true, reason: `namespace ${ns} has ${enabled[0]}=enabled` };
  if (nsLabels?.['istio-injection'] === undefined && nsLabels?.[REV_LABEL] !== undefined) {
    const rev = nsLabels[REV_LABEL];
    return rev === REVISION ? { inject: true, reason: `namespace ${ns} has ${REV_LABEL}=${rev}` } : { inject: false, reason: `namespace ${ns} selects revision ${rev}, not served here (only ${REVISION})` };
  }
  if (meta.labels?.[REV_LABEL] === REVISION) return { inject: true, reason: `pod label ${REV_LABEL}=${REVISION}` };
  if (defaultInject) return { inject: true, reason: 'injected by default (no label says otherwise)' };
  return { inject: false, reason: `namespace ${ns} is not labelled ${NAMESPACE_LABELS[0]}=enabled` };
}
