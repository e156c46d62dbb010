// Protocol detection on the first bytes a client sends (Envoy's http_inspector, for plaintext): the HTTP/2
// connection preface (prior knowledge, what @grpc/grpc-js sends to an http:// target), an HTTP/1.x request
// line, or anything else = opaque TCP. Partial input that could still become either HTTP form answers
// `need-more`; the listener reads more (bounded by its sniff timeout, after which it treats the bytes as TCP).
//
//   "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"        → h2
//   METHOD SP request-target SP "HTTP/1." DIGIT CRLF → http1   (RFC 9112 3; a bare LF too: the parser 400s it)
//   a prefix of either                         → need-more
//   otherwise (TLS ClientHello, server-first protocols' clients, binary) → tcp

/** The HTTP/2 client connection preface (RFC 9113 3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Longest request line we wait for before deciding: past it a line that still looks like HTTP/1 is HTTP/1. */
export const MAX_SNIFF_LINE = 8192;
/** Longest method token accepted (the longest registered method, `UPDATEREDIRECTREF`, has 17). */
const MAX_METHOD = 24;

export type DetectedProtocol = 'http1' | 'h2' | 'tcp' | 'need-more';

// RFC 9110 5.6.2 tchar.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) { TCHAR[c] = 1; TCHAR[c + 32] = 1; }

const VERSION = Buffer.from('HTTP/1.', 'latin1');

/** Classifies the first bytes of a connection; `need-more` while a prefix could still be HTTP. */
export function detectProtocol(first: Buffer, maxLine = MAX_SNIFF_LINE): DetectedProtocol {
  if (first.length === 0) return 'need-more';
  const n = Math.min(first.length, H2_PREFACE.length);
  if (first.compare(H2_PREFACE, 0, n, 0, n) === 0) return n === H2_PREFACE.length ? 'h2' : 'need-more';
  return requestLine(first, maxLine);
}

/** Walks `METHOD SP target SP HTTP/1.x CRLF` as far as the bytes go. */
function requestLine(b: Buffer, maxLine: number): DetectedProtocol {
  let i = 0;
  while (i < b.length && b[i] < 128 && TCHAR[b[i]] === 1) i++;
  if (i > MAX_METHOD) return 'tcp';
  if (i === b.length) return 'need-more';
  if (i === 0 || b[i] !== 0x20) return 'tcp';
  i++;
  const targetStart = i;
  // request-target: visible ASCII (and obs-text) up to the next SP.
  while (i < b.length && b[i] > 0x20 && b[i] !== 0x7f) i++;
  if (i === b.length) return b.length >= maxLine ? 'http1' : 'need-more';
  if (i === targetStart || b[i] !== 0x20) return 'tcp';
  i++;
  // "HTTP/1." DIGIT CR LF
  for (let k = 0; k < VERSION.length; k++, i++) {
    if (i === b.length) return 'need-more';
    if (b[i] !== VERSION[k]) return 'tcp';
  }
  if (i === b.length) return 'need-more';
  if (b[i] < 0x30 || b[i] > 0x39) return 'tcp';
  i++;
  if (i === b.length) return 'need-more';
  // A bare LF ends the line too: it is HTTP/1, and the HTTP/1 parser answers it with 400.
  if (b[i] === 0x0a) return 'http1';
  if (b[i] !== 0x0d) return 'tcp';
  i++;
  if (i === b.length) return 'need-more';
  return b[i] === 0x0a ? 'http1' : 'tcp';
}
