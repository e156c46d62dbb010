// SPIFFE identities of peer certificates, as Node's getPeerCertificate() shows them.
import type { PeerCertificate } from 'node:tls';

/** `spiffe://cluster.local/ns/<ns>/sa/<sa>` for a pod's ServiceAccount. */
export function spiffeId(namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The certificate's URI SANs that are SPIFFE IDs. */
export function spiffeUris(cert: PeerCertificate | undefined | null): string[] {
  const san = cert?.subjectaltname ?? '';
  const out: string[] = [];
  for (const part of san.split(/,\s*/)) {
    if (part.startsWith('URI:spiffe://')) out.push(part.slice(4));
  }
  return out;
}

/** The one SPIFFE ID of a peer certificate, or an Error saying why there is none. */
export function peerSpiffe(cert: PeerCertificate | undefined | null): string | Error {
  const ids = spiffeUris(cert);
  if (ids.length === 0) return new Error('peer certificate has no SPIFFE URI SAN');
  if (ids.length > 1) return new Error(`peer certificate has ${ids.length} SPIFFE URI SANs`);
  return ids[0];
}
