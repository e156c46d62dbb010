// The upstream dialer of the HTTP paths (proxy/http1 UpstreamPool, proxy/http2): a mesh endpoint (a pod
// with a sidecar and a SPIFFE identity in the live snapshot) is reached through the tunnel — an HBONE
// CONNECT stream on the pooled mTLS session to that pod, connected when the peer answers 200 — and
// anything else by plain TCP. One dialer for the sidecar and the ingress.
import { connect as netConnect } from 'node:net';
import type { ClientHttp2Stream } from 'node:http2';
import type { Conn } from '../http1/connection.js';
import type { Dialer } from '../http1/pool.js';
import type { Snapshot } from '../config/store.js';
import { plainIp } from '../net/cidr.js';
import type { TunnelClient } from './client.js';

/** The CONNECT header that tells the peer's HBONE server which protocol a tunnelled stream carries. */
export const APP_PROTOCOL_HEADER = 'x-shoal-app-protocol';

/** Connect timeout of a dial (Istio's connectionPool.tcp.connectTimeout default is 10 s). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A dialer over `tunnel` for mesh endpoints of `snapshot()` (CONNECT with `headers`), plain TCP for the others. */
export function meshDialer(tunnel: TunnelClient, snapshot: () => Snapshot, headers: Record<string, string> = {}, connectTimeoutMs = CONNECT_TIMEOUT_MS): Dialer {
  return (address, port, cb) => {
    const ep = snapshot().pods.get(plainIp(address));
    let done = false;
    const finish = (err: Error | null, s?: Conn): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cb(err, s);
    };
    const timer = setTimeout(() => { finish(new Error(`connect timeout after ${connectTimeoutMs} ms`)); sock?.destroy(); }, connectTimeoutMs);
    let sock: Conn | undefined;
    if (ep?.mesh && ep.identity) {
      let s: ClientHttp2Stream;
      try {
        s = tunnel.open(address, port, ep.identity, headers) as ClientHttp2Stream;
      } catch (e) {
        return finish(e as Error);
      }
      sock = s;
      if (tunnel.mode === 'tls') {
        s.once('secureConnect', () => finish(null, s));
      } else {
        s.once('response', (h) => { if (Number(h[':status']) === 200) finish(null, s); });
      }
      s.once('error', (e) => finish(e));
      s.once('close', () => finish(new Error('tunnel stream closed before connect')));
      return;
    }
    const t = netConnect({ host: address, port, noDelay: true });
    sock = t;
    t.once('connect', () => finish(null, t));
    t.once('error', (e) => finish(e));
  };
}
