// Header lists as the HTTP/1 path carries them (flat [name, value, …], names lowercased), Istio's header
// operations (set, add, remove) on them, and the serialization of heads a proxy forwards: hop-by-hop
// fields (RFC 9110 7.6.1: Connection, the fields it names, Keep-Alive, Proxy-Connection, TE, Upgrade
// unless upgrading) are not forwarded; framing fields stay because bodies are relayed as sent.
import type { RequestHead, ResponseHead } from './parse.js';

/** Istio's HeaderOperations: `set` replaces, `add` appends, `remove` deletes (names lowercased). */
export interface HeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

/** No operations. */
export const NO_OPS: HeaderOps = Object.freeze({ set: [], add: [], remove: [] });

/** Compiles Istio's `{set, add, remove}` object into frozen HeaderOps. */
export function compileHeaderOps(o: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] } | undefined): HeaderOps {
  if (!o) return NO_OPS;
  const pairs = (m?: Record<string, string>) => Object.freeze(Object.entries(m ?? {}).map(([k, v]) => Object.freeze([k.toLowerCase(), String(v)] as const)));
  return Object.freeze({ set: pairs(o.set), add: pairs(o.add), remove: Object.freeze((o.remove ?? []).map((r) => r.toLowerCase())) });
}

/** Applies ops in Envoy's order (remove, then set, then add) and returns a new list. */
export function applyHeaderOps(headers: readonly string[], ops: HeaderOps): string[] {
  if (ops === NO_OPS || (ops.set.length === 0 && ops.add.length === 0 && ops.remove.length === 0)) return headers as string[];
  const drop = new Set([...ops.remove, ...ops.set.map(([k]) => k)]);
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!drop.has(headers[i])) out.push(headers[i], headers[i + 1]);
  for (const [k, v] of ops.set) out.push(k, v);
  for (const [k, v] of ops.add) out.push(k, v);
  return out;
}

/** Sets one header (replacing every earlier value). */
export function setHeader(headers: readonly string[], name: string, value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] !== name) out.push(headers[i], headers[i + 1]);
  out.push(name, value);
  return out;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'trailer']);

/** Names listed in Connection other than the framing tokens (to be dropped too). */
function connectionNamed(headers: readonly string[]): Set<string> | null {
  let set: Set<string> | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'connection') continue;
    for (const t of headers[i + 1].toLowerCase().split(',')) {
      const n = t.trim();
      if (n && n !== 'close' && n !== 'keep-alive' && n !== 'upgrade') (set ??= new Set()).add(n);
    }
  }
  return set;
}

function appendFields(out: string, headers: readonly string[], keepUpgrade: boolean): string {
  const named = connectionNamed(headers);
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i];
    if (HOP.has(n) && !(keepUpgrade && n === 'upgrade')) continue;
    if (named !== null && named.has(n)) continue;
    out += `${n}: ${headers[i + 1]}\r\n`;
  }
  return out;
}

/** The request head sent upstream: always HTTP/1.1 keep-alive (the pool reuses it), or an upgrade. */
export function serializeRequest(head: RequestHead): string {
  let s = appendFields(`${head.method} ${head.target} HTTP/1.1\r\n`, head.headers, head.upgrade !== '');
  if (head.upgrade !== '') s += 'connection: upgrade\r\n';
  return `${s}\r\n`;
}

/** The response head sent downstream; `close` adds `connection: close`. */
export function serializeResponse(head: ResponseHead, headers: readonly string[], close: boolean): string {
  const upgrading = head.status === 101;
  let s = appendFields(`HTTP/1.1 ${head.status} ${head.reason}\r\n`, headers, upgrading);
  if (upgrading) s += 'connection: upgrade\r\n';
  else if (close) s += 'connection: close\r\n';
  return `${s}\r\n`;
}

/** A complete local response (errors, redirects, direct responses, denials). */
export function localResponse(status: number, headers: readonly string[], body: string | Buffer, close: boolean): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  let s = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  s += `content-length: ${b.length}\r\n`;
  if (close) s += 'connection: close\r\n';
  return Buffer.concat([Buffer.from(`${s}\r\n`, 'latin1'), b]);
}

/** Reason phrases for the statuses the proxy makes itself. */
export const STATUS_TEXT: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found',
  408: 'Request Timeout', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};
