// The mesh CA client: Istio's `istio.v1.auth.IstioCertificateService/CreateCertificate` over TLS (the
// server must chain to the mesh root file), authenticated with `authorization: Bearer <SA token>`. The
// token file is re-read per call (projected tokens rotate).
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadMeshProto } from '../../proto/load.js';
import type { IstioCertificateResponse } from '../../proto/types.js';
import type { CertificateSigner } from './manager.js';

export interface CaClientOptions {
  /** host:port of the CA (CA_ADDR). */
  address: string;
  rootCertFile: string;
  tokenFile: string;
  /** Metadata istio-agent sends (WorkloadName, WorkloadIP, ClusterID). */
  metadata?: Record<string, string>;
  timeoutMs?: number;
}

/** Signs CSRs at the mesh CA. */
export class CaClient implements CertificateSigner {
  private client: grpc.Client & { CreateCertificate?: (...a: unknown[]) => unknown };

  constructor(private readonly opts: CaClientOptions) {
    const { IstioCertificateService } = loadMeshProto();
    const creds = grpc.credentials.createSsl(readFileSync(opts.rootCertFile));
    this.client = new IstioCertificateService(opts.address, creds) as grpc.Client;
  }

  sign(csrPem: string, ttlSeconds: number): Promise<string[]> {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${readFileSync(this.opts.tokenFile, 'utf8').trim()}`);
    const metadata = this.opts.metadata
      ? { fields: Object.fromEntries(Object.entries(this.opts.metadata).map(([k, v]) => [k, { stringValue: v }])) }
      : undefined;
    return new Promise((resolve, reject) => {
      const fn = (this.client as unknown as Record<string, (...a: unknown[]) => void>).CreateCertificate.bind(this.client);
      fn({ csr: csrPem, validityDuration: ttlSeconds, metadata }, md, { deadline: Date.now() + (this.opts.timeoutMs ?? 10_000) },
        (err: grpc.ServiceError | null, res: IstioCertificateResponse) => {
          if (err) reject(new Error(`CreateCertificate at ${this.opts.address}: ${err.details || err.message}`));
          else resolve(res.certChain);
        });
    });
  }

  close(): void { this.client.close(); }
}
