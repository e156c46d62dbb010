// Sidecar injection as a step of the API server's admission chain: a Pod being created is passed to the
// shared injector (inject/), which decides from the Pod and its Namespace's labels and adds istio-init,
// the istio-proxy native sidecar, the root-cert volume, labels and annotations. It runs after the
// ServiceAccount step (as Istio's webhook runs after kube-apiserver's built-in plugins), so the proxy
// gets the pod's token mount; defaulting and validation then run over the injected pod. Bad capture
// annotations deny the create with 422 and the annotation's field path.

import type { AdmissionPlugin, AdmissionRequest, AdmissionResult } from './chain.js';
import { InjectError, injectPod } from '../../../inject/inject.js';

/** The name Istio's injection webhook has (it appears in denials: `admission webhook "…" denied`). */
export const INJECTION_PLUGIN = 'sidecar-injector.istio.io';

/** The plugin. `namespaceLabels(ns)` reads the Namespace (undefined when it does not exist). */
export function sidecarInjectionPlugin(namespaceLabels: (namespace: string) => Promise<Record<string, string> | undefined>): AdmissionPlugin {
  return {
    name: INJECTION_PLUGIN,
    resources: ['pods'],
    async mutate(req: AdmissionRequest): Promise<AdmissionResult> {
      const pod = req.object;
      if (req.operation !== 'CREATE' || !pod || req.subresource) return { allowed: true };
      const labels = await namespaceLabels(req.namespace);
      let injected: any;
      try {
        const r = injectPod({ ...pod, metadata: { ...pod.metadata, namespace: req.namespace } }, { namespaceLabels: labels });
        if (!r.decision.inject) return { allowed: true };
        injected = r.object;
      } catch (e) {
        if (!(e instanceof InjectError)) throw e;
        return {
          allowed: false, code: 422, reason: e.message,
          causes: e.errors.map((x) => ({ type: 'Invalid' as const, field: x.field, detail: x.detail, value: x.value })),
        };
      }
      pod.metadata = injected.metadata;
      pod.spec = injected.spec;
      return { allowed: true };
    },
  };
}
