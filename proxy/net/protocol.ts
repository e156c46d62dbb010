// Which application protocol a connection speaks, as Istio decides it: first what the Service port
// declares (`appProtocol`, else the port name `<protocol>[-<suffix>]`), and for a port that declares
// nothing, the client's first bytes (an HTTP/1.x request line, the HTTP/2 connection preface), else opaque
// TCP. Server-first protocols on undeclared ports are found by the sniff timeout (the client says nothing
// first), as Istio's protocolDetectionTimeout does.

/** What a port declares. `auto`: nothing, sniff. */
export type PortProtocol = 'http' | 'http2' | 'tcp' | 'auto';

/** What the first bytes say. */
export type Detected = 'http1' | 'h2' | 'tcp' | 'need-more';

const H2_NAMES = new Set(['http2', 'grpc', 'grpc-web', 'h2c', 'kubernetes.io/h2c']);
/** Istio's explicit non-HTTP protocols: relayed as TCP, never sniffed. */
const TCP_NAMES = new Set(['tcp', 'tls', 'https', 'mongo', 'mysql', 'redis', 'udp', 'sctp', 'kubernetes.io/ws', 'kubernetes.io/wss']);

function classify(name: string): PortProtocol {
  const n = name.toLowerCase();
  if (H2_NAMES.has(n)) return 'http2';
  if (n === 'http') return 'http';
  if (TCP_NAMES.has(n)) return 'tcp';
  return 'auto';
}

/** Istio's protocol selection: appProtocol first, then the port name's prefix before the first `-`. */
export function portProtocol(port: { name?: string; appProtocol?: string; protocol?: string }): PortProtocol {
  if (port.protocol && port.protocol !== 'TCP') return 'tcp';
  if (port.appProtocol) {
    const p = classify(port.appProtocol);
    if (p !== 'auto') return p;
  }
  const name = port.name ?? '';
  return name ? classify(name.split('-')[0]) : 'auto';
}

/** The HTTP/2 connection preface a prior-knowledge (h2c) client sends first. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const MAX_METHOD = 20;

/** Looks at the first bytes of a client-first connection. */
export function detect(buf: Buffer): Detected {
  if (buf.length === 0) return 'need-more';
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return n === H2_PREFACE.length ? 'h2' : 'need-more';
  // An HTTP/1 request line starts with a method token and a space.
  for (let i = 0; i < buf.length && i <= MAX_METHOD; i++) {
    const c = buf[i];
    if (c === 0x20) return i > 0 ? 'http1' : 'tcp';
    if (!TOKEN.test(String.fromCharCode(c))) return 'tcp';
  }
  return buf.length > MAX_METHOD ? 'tcp' : 'need-more';
}
