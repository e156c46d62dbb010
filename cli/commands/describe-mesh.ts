// The mesh section of `shoal describe pod`: which PeerAuthentication decides the pod's mTLS mode (per
// port) and which AuthorizationPolicies apply to it, each with the reason, computed with mesh control's
// own selection code (control-plane/mesh/model/selection.ts) from the policies in the API, so what is
// printed is what the sidecar is sent.

import type { KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { applicableAuthorizationPolicies, effectivePeerAuthentication, ROOT_NAMESPACE, type Selected } from '../../control-plane/mesh/model/selection.js';
import { hasSidecar, spiffeId } from '../../control-plane/mesh/model/compile.js';

const PA = { apiVersion: 'security.istio.io/v1', plural: 'peerauthentications', namespaced: true };
const AP = { apiVersion: 'security.istio.io/v1', plural: 'authorizationpolicies', namespaced: true };
const SVC = { apiVersion: 'v1', plural: 'services', namespaced: true };

const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** The section's text from the pod and the policies (pure). */
export function formatMeshSection(pod: any, pas: KubeObject[], aps: KubeObject[], services: KubeObject[], root = ROOT_NAMESPACE): string {
  const ns = pod.metadata.namespace;
  const w = { namespace: ns, labels: pod.metadata.labels ?? {} };
  const sa = pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
  const eff = effectivePeerAuthentication(w, pas, root);
  const svcOf = (n: string, name: string) => {
    const s: any = services.find((x) => x.metadata.namespace === n && x.metadata.name === name);
    return s ? { namespace: n, name, selector: s.spec?.selector } : undefined;
  };
  const authz = applicableAuthorizationPolicies(w, aps, svcOf, root);
  const lines = ['Mesh:', `  Sidecar:     ${hasSidecar(pod) ? 'yes (istio-proxy)' : 'no (policies below apply once a sidecar is injected)'}`, `  Identity:    ${spiffeId(ns, sa)}`];
  const ports = Object.entries(eff.portModes).map(([p, m]) => `${p}=${m}`).join(', ');
  lines.push(`  mTLS mode:   ${eff.mode}${ports ? `; ports ${ports}` : ''}${eff.sources.length ? ` (from ${eff.sources.join(', ')})` : ' (default: no PeerAuthentication sets a mode)'}`);
  const paLine = (s: Selected) => `    ${s.applies ? '✔' : '✘'} ${key(s.policy)} [${s.level}] mode ${(s.policy as any).spec?.mtls?.mode ?? 'UNSET'}: ${s.why}`;
  lines.push('  PeerAuthentications:', ...(eff.considered.length ? eff.considered.map(paLine) : ['    <none>']));
  const action = (p: any) => p.spec?.action ?? 'ALLOW';
  const apLine = (s: Selected) => `    ${action(s.policy)} ${key(s.policy)}: ${s.why}${action(s.policy) === 'CUSTOM' ? ' (CUSTOM: not enforced by the sidecar)' : ''}`;
  lines.push('  AuthorizationPolicies:', ...(authz.length ? authz.map(apLine) : ['    <none> (all traffic allowed)']));
  const allows = authz.filter((s) => action(s.policy) === 'ALLOW');
  if (allows.length) lines.push(`    → a request must match one of the ${allows.length} ALLOW polic${allows.length === 1 ? 'y' : 'ies'} and none of the DENY ones`);
  return lines.join('\n') + '\n';
}

/** The section for `pod`, reading the policies from the API; silent when the API has no Istio kinds. */
export async function meshSection(client: KubeClient, pod: KubeObject): Promise<string> {
  const ns = pod.metadata.namespace!;
  try {
    const [pas, aps, svcs] = await Promise.all([
      Promise.all([client.list(PA, { namespace: ns }), client.list(PA, { namespace: ROOT_NAMESPACE })]),
      Promise.all([client.list(AP, { namespace: ns }), client.list(AP, { namespace: ROOT_NAMESPACE })]),
      client.list(SVC, { namespace: ns }),
    ]);
    const uniq = (ls: { items: KubeObject[] }[]) => [...new Map(ls.flatMap((l) => l.items).map((o) => [key(o), o])).values()];
    return formatMeshSection(pod, uniq(pas), uniq(aps), svcs.items);
  } catch {
    return '';
  }
}
