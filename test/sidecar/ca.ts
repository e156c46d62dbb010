// A test mesh CA: a root made here (EC P-256) and Istio's CreateCertificate served over TLS by
// @grpc/grpc-js with the mesh proto, authenticating `Bearer <token>` against a token → identity table
// (standing in for TokenReview). Also issues arbitrary certificates for the refusal tests (another CA,
// expired, wrong SPIFFE ID).
import type { KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadMeshProto } from '../../proto/load.js';
import { buildCertificate, newKey, parseCsr, signerOf, type Signer } from '../../proxy/identity/x509.js';

/** A CA key + self-signed root. */
export interface Ca { key: KeyObject; certPem: string; org: string; signer: Signer }

/** Makes a root CA. */
export function makeCa(org = 'shoal-test-mesh'): Ca {
  const k = newKey('ec');
  const now = Date.now();
  const certPem = buildCertificate({ spki: k.spki, subject: { o: org }, notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 86_400_000), ca: true }, { key: k.privateKey, selfSigned: true });
  return { key: k.privateKey, certPem, org, signer: signerOf(k.keyPem, certPem) };
}

/** A leaf for `uri` signed by `ca` (key made here); validity relative to now in seconds. */
export function makeLeaf(ca: Ca, uri: string, fromSec = -60, toSec = 3600): { keyPem: string; certPem: string } {
  const k = newKey('ec');
  const now = Date.now();
  const certPem = buildCertificate({ spki: k.spki, sans: { uris: [uri] }, notBefore: new Date(now + fromSec * 1000), notAfter: new Date(now + toSec * 1000) }, ca.signer);
  return { keyPem: k.keyPem, certPem };
}

/** The running CA service. */
export interface CaServer {
  ca: Ca;
  port: number;
  issued: number;
  /** Refusals with their reasons. */
  refused: string[];
  close(): Promise<void>;
}

/** gRPC server credentials with a serving certificate (istiod's names, 127.0.0.1 and `ips`) from `ca`. */
export function servingCredentials(ca: Ca, ips: string[] = []): grpc.ServerCredentials {
  const serving = newKey('ec');
  const now = Date.now();
  const servingPem = buildCertificate({
    spki: serving.spki, subject: { o: 'istiod' }, sans: { dns: ['istiod.istio-system.svc', 'localhost'], ips: ['127.0.0.1', ...ips] },
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000),
  }, ca.signer);
  return grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(serving.keyPem), cert_chain: Buffer.from(servingPem) }], false);
}

/** Serves CreateCertificate on 0.0.0.0:0 with a serving cert for `ips`; `tokens` maps bearer token → SPIFFE ID. */
export async function startCaServer(ca: Ca, ips: string[], tokens: Record<string, string>): Promise<CaServer> {
  const { IstioCertificateService } = loadMeshProto();
  const server = new grpc.Server();
  const state: CaServer = { ca, port: 0, issued: 0, refused: [], close: async () => { server.forceShutdown(); } };
  server.addService(IstioCertificateService.service, {
    CreateCertificate(call: grpc.ServerUnaryCall<{ csr: string; validityDuration: number }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const auth = String(call.metadata.get('authorization')[0] ?? '');
      const id = tokens[auth.replace(/^Bearer /, '')];
      const refuse = (code: grpc.status, msg: string): void => { state.refused.push(msg); cb({ code, details: msg }); };
      if (!id) return refuse(grpc.status.UNAUTHENTICATED, 'unknown token');
      let csr;
      try { csr = parseCsr(call.request.csr); } catch (e) { return refuse(grpc.status.INVALID_ARGUMENT, (e as Error).message); }
      const uris = csr.sans.uris;
      if (uris.length !== 1 || uris[0] !== id) return refuse(grpc.status.PERMISSION_DENIED, `csr URI ${uris.join(',')} is not ${id}`);
      const ttl = call.request.validityDuration || 86_400;
      const t0 = Date.now();
      // notBefore is now (X.509 has 1 s resolution): half-life renewal then lands at ttl/2.
      const leaf = buildCertificate({ spki: csr.spki, sans: { uris: [id] }, notBefore: new Date(t0), notAfter: new Date(t0 + ttl * 1000) }, ca.signer);
      state.issued++;
      cb(null, { certChain: [leaf, ca.certPem] });
    },
  });
  state.port = await new Promise<number>((resolve, reject) => server.bindAsync('0.0.0.0:0', servingCredentials(ca, ips),
    (err, port) => (err ? reject(err) : resolve(port))));
  return state;
}
