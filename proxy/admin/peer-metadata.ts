// Who is on each end of a connection, for Istio's standard metric labels (`source_workload`,
// `source_canonical_service`, … `destination_version`). In Istio the peers swap this in the metadata
// exchange; here the HBONE client sends its own in the CONNECT request as a W3C `baggage` header, with
// the keys Istio ambient (ztunnel) uses:
//   baggage: k8s.namespace.name=<ns>,k8s.deployment.name=<workload>,service.name=<canonical name>,
//            service.version=<canonical revision>,app.name=<app label>,app.version=<version label>
// (`k8s.<kind>.name` is `k8s.pod.name` when the workload is the bare pod; `app.*` are Shoal's for
// Istio's `*_app`/`*_version` labels). The server trusts only what the mTLS peer certificate does not
// already say: the principal and the namespace come from the certificate's SPIFFE ID, never from baggage.
// The destination side of an outbound connection is known from the endpoint (its pod's labels, the
// workload name from the pod-template-hash / job-name label). The TLS-per-connection mode has no request
// headers: there the peer's principal (and namespace) come from its certificate and the workload,
// canonical service and app labels stay "unknown".
import type { IncomingHttpHeaders } from 'node:http2';
import type { MeshEndpoint, Workload } from '../config/types.js';
import type { TcpLabels } from './metrics.js';

/** One side of a connection, as the labels need it ('' when not known; labels show "unknown"). */
export interface PeerMeta {
  workload: string;
  namespace: string;
  principal: string;
  canonicalService: string;
  canonicalRevision: string;
  app: string;
  version: string;
}

/** Nothing known about a peer. */
export const NO_PEER: PeerMeta = Object.freeze({ workload: '', namespace: '', principal: '', canonicalService: '', canonicalRevision: '', app: '', version: '' });

/** Istio's canonical service from labels: explicit, else app.kubernetes.io/*, else app/version, else workload/latest. */
function canonical(labels: Record<string, string>, workload: string): { canonicalService: string; canonicalRevision: string } {
  return {
    canonicalService: labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? workload,
    canonicalRevision: labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest',
  };
}

const locals = new WeakMap<object, PeerMeta>();

/** This proxy's workload. `workloadName` is ISTIO_META_WORKLOAD_NAME (the Deployment's name); else the workload resource's name. */
export function localMeta(w: Workload | null, workloadName: string | undefined): PeerMeta {
  if (!w) return { ...NO_PEER, workload: workloadName ?? '' };
  const have = locals.get(w);
  if (have && have.workload === (workloadName || w.name)) return have;
  const workload = workloadName || w.name;
  const labels = w.labels ?? {};
  const m: PeerMeta = Object.freeze({
    workload, namespace: w.namespace, principal: w.identity, ...canonical(labels, workload), app: labels.app ?? '', version: labels.version ?? '',
  });
  locals.set(w, m);
  return m;
}

/** The workload (controller) name of an endpoint's pod: Deployment via pod-template-hash, Job via job-name, else the pod. */
export function endpointWorkload(podName: string, labels: Record<string, string>): string {
  const hash = labels['pod-template-hash'];
  if (hash) {
    const at = podName.lastIndexOf(`-${hash}-`);
    if (at > 0) return podName.slice(0, at);
  }
  return labels['batch.kubernetes.io/job-name'] ?? labels['job-name'] ?? podName;
}

/** An outbound endpoint's metadata (null endpoint: unknown, with the principal the route expects). */
export function endpointMeta(ep: MeshEndpoint | null | undefined, principal: string): PeerMeta {
  if (!ep) return { ...NO_PEER, principal };
  const labels = ep.labels ?? {};
  const workload = endpointWorkload(ep.podName, labels);
  return { workload, namespace: ep.namespace, principal, ...canonical(labels, workload), app: labels.app ?? '', version: labels.version ?? '' };
}

const baggages = new WeakMap<PeerMeta, string>();
const enc = (v: string): string => encodeURIComponent(v);

/** The `baggage` header value for `m` (memoized per frozen PeerMeta). */
export function baggageOf(m: PeerMeta, podName = ''): string {
  const have = baggages.get(m);
  if (have !== undefined) return have;
  const kind = !m.workload || m.workload === podName ? 'pod' : 'deployment';
  const pairs: [string, string][] = [
    ['k8s.namespace.name', m.namespace], [`k8s.${kind}.name`, m.workload], ['service.name', m.canonicalService],
    ['service.version', m.canonicalRevision], ['app.name', m.app], ['app.version', m.version],
  ];
  const v = pairs.filter(([, x]) => x).map(([k, x]) => `${k}=${enc(x)}`).join(',');
  if (Object.isFrozen(m)) baggages.set(m, v);
  return v;
}

const WORKLOAD_KEY = /^k8s\.[a-z]+\.name$/;

/**
 * The peer's metadata from a CONNECT request's `baggage` and its certificate's identity. Malformed members
 * are skipped (W3C baggage); principal and namespace are the certificate's.
 */
export function peerFromHeaders(headers: IncomingHttpHeaders, principal: string, namespace: string): PeerMeta {
  const m: PeerMeta = { ...NO_PEER, principal, namespace };
  const raw = headers.baggage;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  if (!text || text.length > 8192) return m;
  for (const member of text.split(',')) {
    const eq = member.indexOf('=');
    if (eq <= 0) continue;
    const key = member.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(member.slice(eq + 1).split(';')[0]!.trim());
    } catch {
      continue;
    }
    if (!value || value.length > 253) continue;
    if (WORKLOAD_KEY.test(key) && key !== 'k8s.namespace.name' && key !== 'k8s.cluster.name') m.workload = value;
    else if (key === 'service.name') m.canonicalService = value;
    else if (key === 'service.version') m.canonicalRevision = value;
    else if (key === 'app.name') m.app = value;
    else if (key === 'app.version') m.version = value;
  }
  return m;
}

const u = (v: string): string => v || 'unknown';

/** Istio's source_* labels. */
export function sourceLabels(m: PeerMeta): Pick<TcpLabels, `source_${string}` & keyof TcpLabels> {
  return {
    source_workload: u(m.workload), source_workload_namespace: u(m.namespace), source_principal: u(m.principal),
    source_canonical_service: u(m.canonicalService), source_canonical_revision: u(m.canonicalRevision), source_app: u(m.app), source_version: u(m.version),
  };
}

/** Istio's destination_* labels. */
export function destinationLabels(m: PeerMeta): Omit<Pick<TcpLabels, `destination_${string}` & keyof TcpLabels>, 'destination_service'> {
  return {
    destination_workload: u(m.workload), destination_workload_namespace: u(m.namespace), destination_principal: u(m.principal),
    destination_canonical_service: u(m.canonicalService), destination_canonical_revision: u(m.canonicalRevision),
    destination_app: u(m.app), destination_version: u(m.version),
  };
}
