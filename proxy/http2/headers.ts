// Header translation between HTTP/2 frames and the filter chain's view. The chain sees the same
// `RequestHead` as on HTTP/1 (`method`, `target` = :path, `host` = :authority, headers flat
// [name, value, …] lowercased, pseudo-headers and `host` left out); what it returns is turned back into an
// HTTP/2 header block for the upstream. Connection-specific fields (RFC 9113 8.2.2) are never forwarded.
// Local answers to gRPC requests become gRPC trailers-only responses with the status mapped from HTTP as
// the gRPC spec and Envoy do (403 → PERMISSION_DENIED, 404 → UNIMPLEMENTED, 503 → UNAVAILABLE, …).
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { RequestHead } from '../http1/parse.js';

/** Fields that must not appear in an HTTP/2 message (and `host`, carried as :authority). */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);

/** A request as the HTTP/2 downstream gave it; `scheme` is kept for the upstream. */
export interface H2Request {
  head: RequestHead;
  scheme: string;
  grpc: boolean;
}

/** Builds the chain's head from a request's header block, or says which field is wrong. */
export function requestFromH2(headers: IncomingHttpHeaders, raw: readonly string[] | undefined): H2Request | { error: string } {
  const method = headers[':method'];
  if (typeof method !== 'string' || method === '') return { error: ':method: missing' };
  const authority = (headers[':authority'] as string | undefined) ?? (headers.host as string | undefined) ?? '';
  const connect = method === 'CONNECT';
  const path = headers[':path'] as string | undefined;
  if (!connect && (path === undefined || path === '')) return { error: ':path: missing' };
  const flat: string[] = [];
  const list = raw ?? flattenObject(headers);
  for (let i = 0; i < list.length; i += 2) {
    const n = list[i];
    if (n.charCodeAt(0) === 58 /* : */ || n === 'host') continue;
    flat.push(n, list[i + 1]);
  }
  const cl = headers['content-length'];
  const contentLength = typeof cl === 'string' && /^\d{1,15}$/.test(cl) ? Number(cl) : -1;
  const head: RequestHead = {
    method, target: connect ? authority : path!, minor: 1, headers: flat, host: authority, contentLength, chunked: false,
    keepAlive: true, upgrade: '', expectContinue: headers.expect === '100-continue',
  };
  return { head, scheme: (headers[':scheme'] as string | undefined) ?? 'http', grpc: isGrpc(headers['content-type']) };
}

/** gRPC by content type (`application/grpc`, `application/grpc+proto`, …), as Envoy's `isGrpcRequestHeaders`. */
export function isGrpc(contentType: string | string[] | undefined): boolean {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) return false;
  const c = contentType.charCodeAt(16);
  return Number.isNaN(c) || c === 43 /* + */ || c === 59 /* ; */;
}

/** The header block sent upstream for the head the chain returned. */
export function upstreamHeaders(head: RequestHead, scheme: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = head.method === 'CONNECT'
    ? { ':method': 'CONNECT', ':authority': head.host }
    : { ':method': head.method, ':scheme': scheme, ':authority': head.host, ':path': head.target };
  addFlat(out, head.headers);
  return out;
}

/** Response header block from a flat list (after the response operations), with `:status`. */
export function responseHeaders(status: number, flat: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': status };
  addFlat(out, flat);
  return out;
}

/** A flat list of the regular fields of a received header block (pseudo-headers left out). */
export function flattenObject(h: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const k of Object.keys(h)) {
    const v = h[k];
    if (v === undefined || k.charCodeAt(0) === 58) continue;
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else out.push(k, String(v));
  }
  return out;
}

/** Trailers as received, without pseudo-headers (there are none in a valid trailer block). */
export function trailersOf(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k of Object.keys(h)) if (k.charCodeAt(0) !== 58) out[k] = h[k];
  return out;
}

function addFlat(out: OutgoingHttpHeaders, flat: readonly string[]): void {
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i];
    if (n.charCodeAt(0) === 58 || DROPPED.has(n)) continue;
    // HTTP/2 allows `te` only as `trailers` (gRPC sends it); any other value is hop-by-hop.
    if (n === 'te' && flat[i + 1].trim().toLowerCase() !== 'trailers') continue;
    const v = flat[i + 1];
    const have = out[n];
    if (have === undefined) out[n] = v;
    else if (Array.isArray(have)) have.push(v);
    else out[n] = [String(have), v];
  }
}

// ---------------------------------------------------------------------------------------------
// gRPC local replies.

/** gRPC status codes the proxy produces. */
export const GrpcStatus = { OK: 0, UNKNOWN: 2, INTERNAL: 13, UNIMPLEMENTED: 12, UNAVAILABLE: 14, PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;

/** The gRPC spec's "HTTP to gRPC Status Code Mapping" (Envoy's `Grpc::Utility::httpToGrpcStatus`). */
export function grpcStatusOfHttp(status: number): number {
  switch (status) {
    case 400: return GrpcStatus.INTERNAL;
    case 401: return GrpcStatus.UNAUTHENTICATED;
    case 403: return GrpcStatus.PERMISSION_DENIED;
    case 404: return GrpcStatus.UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return GrpcStatus.UNAVAILABLE;
    default: return GrpcStatus.UNKNOWN;
  }
}

/** grpc-message encoding: bytes outside printable ASCII and `%` are percent-encoded (gRPC HTTP/2 spec). */
export function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** A trailers-only gRPC response for a local answer (`:status` 200, as Envoy sends). */
export function grpcLocalReply(status: number, body: string | Buffer): OutgoingHttpHeaders {
  const text = (typeof body === 'string' ? body : body.toString('utf8')).trim();
  const out: OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(grpcStatusOfHttp(status)) };
  if (text !== '') out['grpc-message'] = percentEncode(text);
  return out;
}
