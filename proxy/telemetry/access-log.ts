// Access logs as JSON lines with Envoy's field names (Istio's JSON access log format): one line per
// request when the exchange ends, response flags included. The sink is switchable: off (no cost beyond
// one branch), stdout (`/dev/stdout`, as Istio's meshConfig.accessLogFile), or a file appended to.
// A request without x-request-id gets one here (Envoy generates it when absent).
import { createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { RequestHead } from '../http1/parse.js';
import type { ExchangeEnd } from '../http1/connection.js';

/** One access log line (Envoy's JSON field names). */
export interface AccessLogEntry {
  start_time: string;
  method: string;
  path: string;
  protocol: string;
  response_code: number;
  response_flags: string;
  bytes_received: number;
  bytes_sent: number;
  duration: number;
  upstream_service_time: number | null;
  upstream_host: string | null;
  upstream_cluster: string | null;
  upstream_request_attempt_count: number;
  x_forwarded_for: string | null;
  user_agent: string | null;
  request_id: string | null;
  authority: string;
  route_name: string | null;
  downstream_remote_address: string;
  reporter: 'source' | 'destination';
}

/** Where lines go. */
export type AccessLogSink = (e: AccessLogEntry) => void;

/** '' → off; `/dev/stdout` → stdout; another path → appended to that file. */
export function accessLogSink(file: string): AccessLogSink | undefined {
  if (!file) return undefined;
  const out = file === '/dev/stdout' ? process.stdout : createWriteStream(file, { flags: 'a' });
  let broken = false;
  // A log that cannot be written is switched off, never the proxy: one line on stderr says why.
  out.on('error', (err) => {
    if (!broken) process.stderr.write(JSON.stringify({ level: 'error', msg: 'access log off', file, error: err.message }) + '\n');
    broken = true;
  });
  return (e) => { if (!broken) out.write(JSON.stringify(e) + '\n'); };
}

/** The value of header `name` (lowercase) in a flat list, or null. */
export function headerValue(headers: readonly string[], name: string): string | null {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return null;
}

/** The head with an x-request-id (a new UUID when the request had none). */
export function withRequestId(head: RequestHead): RequestHead {
  if (headerValue(head.headers, 'x-request-id') !== null) return head;
  return { ...head, headers: [...head.headers, 'x-request-id', randomUUID()] };
}

/** The line for a request (`end` absent: answered locally with `status` and `flags`). */
export function entryOf(
  head: RequestHead, startMs: number, reporter: AccessLogEntry['reporter'], remote: string,
  o: { end?: ExchangeEnd; status?: number; flags?: string; cluster?: string; route?: string },
): AccessLogEntry {
  const e = o.end;
  return {
    start_time: new Date(performance.timeOrigin + startMs).toISOString(),
    method: head.method, path: head.target, protocol: `HTTP/1.${head.minor}`,
    response_code: e ? e.status : o.status ?? 0, response_flags: e ? e.flags : o.flags ?? '-',
    bytes_received: e?.bytesReceived ?? 0, bytes_sent: e?.bytesSent ?? 0,
    duration: Math.round(performance.now() - startMs),
    upstream_service_time: e && e.upstreamMs >= 0 ? Math.round(e.upstreamMs) : null,
    upstream_host: e?.upstream || null, upstream_cluster: o.cluster ?? null, upstream_request_attempt_count: e?.attempts ?? 0,
    x_forwarded_for: headerValue(head.headers, 'x-forwarded-for'), user_agent: headerValue(head.headers, 'user-agent'),
    request_id: headerValue(head.headers, 'x-request-id'), authority: head.host, route_name: o.route ?? null,
    downstream_remote_address: remote, reporter,
  };
}
