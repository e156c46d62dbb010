// Protocol sniffing on the inbound listener: is the first flight a TLS ClientHello, and which ALPN
// protocols does it offer? Mesh peers in per-connection mTLS mode offer `istio-peer-exchange`/`istio`
// (as Istio's sidecars do); anything else is the app's own traffic (plaintext, or the app's own TLS).

/** The result of looking at the bytes received so far. */
export type Sniff =
  | { kind: 'need-more' }
  | { kind: 'plain' }
  | { kind: 'tls'; alpn: string[]; sni: string };

/** ALPN values that mark a mesh mTLS connection. */
export const MESH_ALPN_VALUES = new Set(['istio-peer-exchange', 'istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']);

/** Reads a TLS ClientHello from `buf` (the first record only; ClientHellos fit one record). */
export function sniffClientHello(buf: Buffer): Sniff {
  if (buf.length === 0) return { kind: 'need-more' };
  if (buf[0] !== 0x16) return { kind: 'plain' };
  if (buf.length >= 2 && buf[1] !== 0x03) return { kind: 'plain' };
  if (buf.length < 5) return { kind: 'need-more' };
  const recLen = buf.readUInt16BE(3);
  if (buf.length < 5 + recLen) return recLen > 16384 + 2048 ? { kind: 'plain' } : { kind: 'need-more' };
  const hs = buf.subarray(5, 5 + recLen);
  if (hs.length < 4 || hs[0] !== 0x01) return { kind: 'plain' };
  let p = 4 + 2 + 32; // handshake header, legacy_version, random
  const need = (n: number): boolean => p + n <= hs.length;
  if (!need(1)) return { kind: 'plain' };
  p += 1 + hs[p]; // session id
  if (!need(2)) return { kind: 'plain' };
  p += 2 + hs.readUInt16BE(p); // cipher suites
  if (!need(1)) return { kind: 'plain' };
  p += 1 + hs[p]; // compression methods
  const alpn: string[] = [];
  let sni = '';
  if (!need(2)) return { kind: 'tls', alpn, sni };
  const extEnd = Math.min(hs.length, p + 2 + hs.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = hs.readUInt16BE(p);
    const len = hs.readUInt16BE(p + 2);
    const body = hs.subarray(p + 4, Math.min(extEnd, p + 4 + len));
    if (type === 0x0010 && body.length >= 2) {
      let q = 2;
      while (q < body.length) {
        const l = body[q];
        alpn.push(body.subarray(q + 1, q + 1 + l).toString('latin1'));
        q += 1 + l;
      }
    } else if (type === 0x0000 && body.length >= 5) {
      const l = body.readUInt16BE(3);
      sni = body.subarray(5, 5 + l).toString('latin1');
    }
    p += 4 + len;
  }
  return { kind: 'tls', alpn, sni };
}

/** True when a sniffed ClientHello is a mesh peer's. */
export function isMeshTls(s: Sniff): boolean {
  return s.kind === 'tls' && s.alpn.some((a) => MESH_ALPN_VALUES.has(a));
}
