// The ServiceAccount admission plugin (kube-apiserver's, in its pre-1.24 form): a Pod that does not opt out
// (automountServiceAccountToken: false on the Pod or its ServiceAccount) gets its ServiceAccount's token
// Secret (`<sa>-token`, kept by the controller manager: token, ca.crt, namespace) mounted read-only at
// /var/run/secrets/kubernetes.io/serviceaccount in every container, so in-cluster clients (cluster DNS,
// ingress, mesh control) find their credentials where client libraries look.

import type { AdmissionPlugin, AdmissionRequest, AdmissionResult } from './chain.js';

/** Where in-cluster clients read their token and CA. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The plugin. `automountFor(ns, sa)` says whether the ServiceAccount allows automounting (default true). */
export function serviceAccountPlugin(automountFor: (namespace: string, serviceAccount: string) => Promise<boolean | undefined>): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    resources: ['pods'],
    async mutate(req: AdmissionRequest): Promise<AdmissionResult> {
      const pod = req.object;
      if (req.operation !== 'CREATE' || !pod || req.subresource) return { allowed: true };
      const spec = pod.spec ?? {};
      const sa: string = spec.serviceAccountName || spec.serviceAccount || 'default';
      if (spec.automountServiceAccountToken === false) return { allowed: true };
      if (spec.automountServiceAccountToken === undefined && (await automountFor(req.namespace, sa)) === false) return { allowed: true };
      const volumes: any[] = (spec.volumes ??= []);
      const all: any[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
      if (all.some((c) => (c.volumeMounts ?? []).some((m: any) => m.mountPath === SERVICE_ACCOUNT_MOUNT))) return { allowed: true };
      const name = `${sa}-token`.slice(0, 63);
      if (!volumes.some((v) => v.name === name)) volumes.push({ name, secret: { secretName: `${sa}-token`, defaultMode: 0o644 } });
      for (const c of all) (c.volumeMounts ??= []).push({ name, mountPath: SERVICE_ACCOUNT_MOUNT, readOnly: true });
      return { allowed: true };
    },
  };
}
