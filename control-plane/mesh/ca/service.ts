// istio.v1.auth.IstioCertificateService/CreateCertificate: the caller is authenticated by its bearer
// token (TokenReview, auth/), and gets a certificate only for the SPIFFE ID of the token's namespace and
// ServiceAccount. Every refusal is logged with its reason and answered PERMISSION_DENIED (identity) or
// INVALID_ARGUMENT (a malformed CSR), UNAUTHENTICATED when the token does not authenticate.

import * as grpc from '@grpc/grpc-js';
import type { IstioCertificateRequest, IstioCertificateResponse } from '../../../proto/types.js';
import type { Caller } from '../xds/server.js';
import { spiffeId } from '../model/compile.js';
import { CsrRefused, type CertificateAuthority } from './authority.js';

/** The handler's needs. */
export interface CaServiceDeps {
  ca: () => CertificateAuthority;
  authenticate(metadata: grpc.Metadata): Promise<Caller>;
  log(level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void;
  metrics?: { csr(outcome: 'issued' | 'denied' | 'invalid' | 'unauthenticated'): void };
}

/** The grpc-js handler map for `server.addService`. */
export function caHandlers(d: CaServiceDeps): grpc.UntypedServiceImplementation {
  return {
    CreateCertificate(call: grpc.ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>, cb: grpc.sendUnaryData<IstioCertificateResponse>) {
      void (async () => {
        let caller: Caller;
        try {
          caller = await d.authenticate(call.metadata);
        } catch (e: any) {
          d.metrics?.csr('unauthenticated');
          d.log('warn', 'CSR refused: not authenticated', { peer: call.getPeer(), error: e.details ?? e.message });
          return cb({ code: e.code ?? grpc.status.UNAUTHENTICATED, details: e.details ?? e.message });
        }
        const identity = spiffeId(caller.namespace, caller.serviceAccount);
        try {
          const certChain = d.ca().sign(call.request.csr, identity, Number(call.request.validityDuration ?? 0));
          d.metrics?.csr('issued');
          d.log('info', 'certificate issued', { identity, ttlSec: call.request.validityDuration });
          cb(null, { certChain });
        } catch (e) {
          const refused = e instanceof CsrRefused;
          d.metrics?.csr(refused && e.code === 'invalid' ? 'invalid' : 'denied');
          d.log('warn', 'CSR refused', { identity, peer: call.getPeer(), error: (e as Error).message });
          cb({ code: refused && e.code === 'invalid' ? grpc.status.INVALID_ARGUMENT : grpc.status.PERMISSION_DENIED, details: (e as Error).message });
        }
      })();
    },
  };
}
