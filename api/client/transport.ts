// The client's one side effect: HTTP requests to the API server. `Transport` is the seam; `undiciTransport`
// is the real one (an undici Pool per server, trusting the cluster CA, bearer token or client certificate),
// and tests may pass their own.

import { Pool } from 'undici';
import type { ClusterConfig } from './config.js';

/** One HTTP request, path already carrying its query. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** A response whose body is read once, as text or as a stream of chunks. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer | string> & { text(): Promise<string> };
}

/** Sends requests to one API server. */
export interface Transport {
  request(r: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** The real transport: undici over TLS (or plain HTTP for http:// servers). */
export function undiciTransport(c: ClusterConfig, userAgent = 'shoal-client'): Transport {
  const url = new URL(c.server);
  const prefix = url.pathname.replace(/\/+$/, '');
  const pool = new Pool(url.origin, {
    connect: {
      ...(c.caPem ? { ca: c.caPem } : {}),
      ...(c.certPem ? { cert: c.certPem } : {}),
      ...(c.keyPem ? { key: c.keyPem } : {}),
      rejectUnauthorized: !c.insecureSkipTlsVerify,
    },
    // watches stay open for minutes: no body timeout; headers must come quickly
    bodyTimeout: 0,
    headersTimeout: 30_000,
    keepAliveTimeout: 10_000,
  });
  return {
    async request(r) {
      const headers: Record<string, string> = { 'user-agent': userAgent, ...r.headers };
      if (c.token) headers.authorization = `Bearer ${c.token}`;
      const res = await pool.request({ origin: url.origin, path: prefix + r.path, method: r.method, headers, body: r.body, signal: r.signal });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    },
    close: () => pool.close(),
  };
}
