// The admin kubeconfig for a cluster's state dir (or, with `token`, a component's): the CA, the server URL and the bearer token,
// in the v1 Config format that kubectl and @kubernetes/client-node read. It only reads the credentials
// (loadPki): printing a kubeconfig never creates a CA next to the one a starting cluster is making.

import YAML from 'yaml';
import { loadPki } from './pki.js';

/** Options for the kubeconfig. */
export interface KubeconfigOptions {
  home: string;
  server?: string;
  clusterName?: string;
  user?: string;
  /** the bearer token (default: the admin token) */
  token?: string;
  /** while this says the cluster is still starting, missing credentials are awaited instead of an error */
  starting?: () => boolean;
}

/** The kubeconfig as an object. */
export function kubeconfigObject(o: KubeconfigOptions): Record<string, unknown> {
  const pki = loadPki(o.home, { starting: o.starting });
  const cluster = o.clusterName ?? 'shoal';
  const user = o.user ?? 'admin';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: o.server ?? 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from(pki.caCertPem).toString('base64') } }],
    users: [{ name: user, user: { token: o.token ?? pki.adminToken } }],
    contexts: [{ name: cluster, context: { cluster, user, namespace: 'default' } }],
    'current-context': cluster,
    preferences: {},
  };
}

/** The kubeconfig as YAML text. */
export function kubeconfigYaml(o: KubeconfigOptions): string {
  return YAML.stringify(kubeconfigObject(o));
}
