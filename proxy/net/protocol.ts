// Which application protocol a connection speaks, as Istio decides it: first what the Service port
// declares (`appProtocol`, else the port name `<protocol>[-<suffix>]`), and for a port that declares
// nothing, the client's first bytes (an HTTP/1.x request line, the HTTP/2 connection preface), else opaque
// TCP. Server-first protocols on undeclared ports are found by the sniff timeout (the client says nothing
// first), as Istio's protocolDetectionTimeout does.

/** What a port declares. `auto`: nothing, sniff. */
export type PortProtocol = 'http' | 'http2' | 'tcp' | 'auto';

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

/** What the first bytes say: proxy/http2/detect.ts (HTTP/1 request line, the HTTP/2 preface, else TCP). */
export { detectProtocol as detect, type DetectedProtocol as Detected } from '../http2/detect.js';
