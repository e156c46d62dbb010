// HTTP/1.1 message heads on the raw socket (RFC 9112), parsing only what a proxy needs to route and to
// frame: the request line or status line, header fields (names lowercased, as Envoy forwards them), and
// the framing facts (Content-Length, Transfer-Encoding chunked, keep-alive, Upgrade, Expect). Strict where
// RFC 9112 says a recipient must be: a bad request line, a bad field name or value, obs-fold, conflicting
// Content-Length or Content-Length with Transfer-Encoding get an error with the reason. An error says
// whether framing is lost (`fatal`: the connection must close after the 400) or whether the message's
// body can still be skipped and the connection keep serving.
//
// Measured against Node's llhttp binding (`require('_http_common').HTTPParser`) in bench/proxy-l7/parse.ts;
// the README has the figures and why this parser is the hot path.

/** Largest head accepted (Envoy's default max_request_headers_kb is 60). */
export const MAX_HEAD_BYTES = 60 * 1024;

/** A parsed request head. `headers` is flat: [name, value, name, value, …], names lowercased. */
export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-form `/p?q`, absolute-form, authority-form, `*`). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  headers: string[];
  /** Host header ('' when absent — only valid for HTTP/1.0). */
  host: string;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Whether the client wants the connection kept after this exchange. */
  keepAlive: boolean;
  /** The Upgrade header when Connection names `upgrade` ('' otherwise). */
  upgrade: string;
  expectContinue: boolean;
}

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  reason: string;
  minor: number;
  headers: string[];
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  upgrade: string;
}

/** A head is incomplete, bad, or parsed (`end` = offset just past the blank line). */
export type ParseResult<H> =
  | { kind: 'incomplete' }
  | { kind: 'error'; status: number; reason: string; fatal: boolean; end: number; skip: number }
  | { kind: 'ok'; head: H; end: number };

// Field values and request-targets must not carry control characters (RFC 9110 5.5): the regexes name them.
/* eslint-disable no-control-regex */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) HTTP\/(\d)\.(\d)$/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;
/* eslint-enable no-control-regex */
const DIGITS = /^\d{1,15}$/;
const INCOMPLETE = Object.freeze({ kind: 'incomplete' as const });

/** Framing facts gathered while walking the fields. */
interface Fields {
  headers: string[];
  host: string;
  hosts: number;
  contentLength: number;
  chunked: boolean;
  te: string;
  connection: string;
  upgrade: string;
  expect: string;
  /** The first non-framing problem (the message can still be skipped). */
  soft: string;
}

function findEnd(buf: Buffer, start: number): number {
  return buf.indexOf('\r\n\r\n', start, 'latin1');
}

/** Walks field lines; returns a fatal reason or null. */
function readFields(lines: string[], f: Fields): string | null {
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) return 'obsolete line folding is not allowed';
    const colon = line.indexOf(':');
    if (colon <= 0) return `field line without a name: ${JSON.stringify(line.slice(0, 40))}`;
    const rawName = line.slice(0, colon);
    let s = colon + 1, e = line.length;
    while (s < e && (line.charCodeAt(s) === 32 || line.charCodeAt(s) === 9)) s++;
    while (e > s && (line.charCodeAt(e - 1) === 32 || line.charCodeAt(e - 1) === 9)) e--;
    const value = line.slice(s, e);
    if (!TOKEN.test(rawName)) {
      // Whitespace before the colon is a request smuggling vector (RFC 9112 5.1): framing lost.
      if (/[ \t]$/.test(rawName)) return 'whitespace between field name and colon';
      f.soft ||= `invalid header name ${JSON.stringify(rawName.slice(0, 40))}`;
      continue;
    }
    const name = rawName.toLowerCase();
    if (BAD_VALUE.test(value)) {
      if (name === 'content-length' || name === 'transfer-encoding') return `invalid ${name} value`;
      f.soft ||= `invalid value for header ${name}`;
      continue;
    }
    switch (name) {
      case 'host': f.host = value; f.hosts++; break;
      case 'content-length': {
        // A list of identical values is one value (RFC 9110 8.6); anything else is fatal.
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!DIGITS.test(v)) return 'invalid content-length';
          const n = Number(v);
          if (f.contentLength !== -1 && f.contentLength !== n) return 'conflicting content-length';
          f.contentLength = n;
        }
        break;
      }
      case 'transfer-encoding': f.te = f.te ? `${f.te}, ${value}` : value; break;
      case 'connection': f.connection = f.connection ? `${f.connection}, ${value.toLowerCase()}` : value.toLowerCase(); break;
      case 'upgrade': f.upgrade = value; break;
      case 'expect': f.expect = value.toLowerCase(); break;
    }
    f.headers.push(name, value);
  }
  if (f.te) {
    const codings = f.te.toLowerCase().split(',').map((x) => x.trim());
    if (codings[codings.length - 1] !== 'chunked') return 'transfer-encoding must end with chunked';
    if (codings.slice(0, -1).includes('chunked')) return 'chunked applied more than once';
    f.chunked = true;
    if (f.contentLength !== -1) return 'both content-length and transfer-encoding';
  }
  return null;
}

function newFields(): Fields {
  return { headers: [], host: '', hosts: 0, contentLength: -1, chunked: false, te: '', connection: '', upgrade: '', expect: '', soft: '' };
}

function hasToken(list: string, token: string): boolean {
  if (list === '') return false;
  if (list === token) return true;
  return list.split(',').some((x) => x.trim() === token);
}

function tooLong(buf: Buffer, start: number): ParseResult<never> | null {
  if (buf.length - start > MAX_HEAD_BYTES) return { kind: 'error', status: 431, reason: 'header section too large', fatal: true, end: buf.length, skip: 0 };
  // A head ended by bare LFs never shows CRLFCRLF: say so rather than wait for the size limit.
  const lf = buf.indexOf('\n\n', start, 'latin1');
  if (lf !== -1) return { kind: 'error', status: 400, reason: 'bare LF in header section', fatal: true, end: buf.length, skip: 0 };
  return null;
}

/** Parses the request head starting at `start`; leading empty lines are skipped (RFC 9112 2.2). */
export function parseRequestHead(buf: Buffer, start: number): ParseResult<RequestHead> {
  while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  const end = findEnd(buf, start);
  if (end === -1) return tooLong(buf, start) ?? INCOMPLETE;
  const after = end + 4;
  if (end - start > MAX_HEAD_BYTES) return { kind: 'error', status: 431, reason: 'header section too large', fatal: true, end: after, skip: 0 };
  const lines = buf.toString('latin1', start, end).split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]);
  const bad = (status: number, reason: string, fatal = true) => ({ kind: 'error' as const, status, reason, fatal, end: after, skip: 0 });
  if (!m) return bad(400, `invalid request line ${JSON.stringify(lines[0].slice(0, 60))}`);
  if (m[3] !== '1' || (m[4] !== '0' && m[4] !== '1')) return bad(505, `HTTP version ${m[3]}.${m[4]} not supported`);
  const f = newFields();
  const fatal = readFields(lines, f);
  if (fatal) return bad(400, fatal);
  const minor = Number(m[4]);
  if (f.chunked && minor === 0) return bad(400, 'transfer-encoding in an HTTP/1.0 request');
  // From here the body's framing is known: the connection may skip it and go on.
  const skip = f.chunked ? -1 : Math.max(0, f.contentLength);
  if (f.chunked) {
    if (f.soft) return bad(400, f.soft);
  } else if (f.soft) return { kind: 'error', status: 400, reason: f.soft, fatal: false, end: after, skip };
  if (minor === 1 && f.hosts === 0) return { kind: 'error', status: 400, reason: 'missing host header', fatal: false, end: after, skip };
  if (f.hosts > 1) return { kind: 'error', status: 400, reason: 'multiple host headers', fatal: false, end: after, skip };
  const keepAlive = minor === 1 ? !hasToken(f.connection, 'close') : hasToken(f.connection, 'keep-alive');
  return {
    kind: 'ok',
    end: after,
    head: {
      method: m[1], target: m[2], minor, headers: f.headers, host: f.host, contentLength: f.contentLength, chunked: f.chunked,
      keepAlive, upgrade: f.upgrade && hasToken(f.connection, 'upgrade') ? f.upgrade : '', expectContinue: f.expect === '100-continue',
    },
  };
}

/** Parses a response head (upstream side). Any error is fatal: the upstream connection is not reused. */
export function parseResponseHead(buf: Buffer, start: number): ParseResult<ResponseHead> {
  const end = findEnd(buf, start);
  if (end === -1) return tooLong(buf, start) ?? INCOMPLETE;
  const after = end + 4;
  const lines = buf.toString('latin1', start, end).split('\r\n');
  const m = STATUS_LINE.exec(lines[0]);
  const bad = (reason: string) => ({ kind: 'error' as const, status: 502, reason, fatal: true, end: after, skip: 0 });
  if (!m || m[1] !== '1') return bad(`invalid status line ${JSON.stringify(lines[0].slice(0, 60))}`);
  const f = newFields();
  const fatal = readFields(lines, f) ?? (f.soft || null);
  if (fatal) return bad(fatal);
  const minor = Number(m[2]);
  const keepAlive = minor === 1 ? !hasToken(f.connection, 'close') : hasToken(f.connection, 'keep-alive');
  return {
    kind: 'ok',
    end: after,
    head: {
      status: Number(m[3]), reason: m[4] ?? '', minor, headers: f.headers, contentLength: f.contentLength, chunked: f.chunked,
      keepAlive, upgrade: f.upgrade && hasToken(f.connection, 'upgrade') ? f.upgrade : '',
    },
  };
}

/** The first value of header `name` (lowercase) in a flat list, or undefined. */
export function getHeader(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}
