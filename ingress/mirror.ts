// The `mirror` filter of the ingress chain: Gateway API RequestMirror. For a route with a mirror (and the
// route's `percent` of its requests), a copy of the request head goes to one endpoint of the mirror's
// cluster, with `Host: <host>-shadow` as Envoy sends shadows and `connection: close`; the response is read
// and dropped, never waited for, and a failure touches nothing but the copy. Only requests without a body
// are mirrored (the body is streamed once, to the real upstream); that limit is documented.
import type { FilterDefinition } from '../proxy/filters/chain.js';
import type { RequestHead } from '../proxy/http1/parse.js';
import type { Dialer } from '../proxy/http1/pool.js';
import type { Mirror } from '../proxy/route/gateway.js';
import type { Route, RouteTable } from '../proxy/route/types.js';
import type { EndpointIndex } from './chain.js';

export interface MirrorConfig {
  mirrors: ReadonlyMap<Route, Mirror>;
  send: (m: Mirror, head: RequestHead) => void;
  random?: () => number;
}

export const mirrorFilter: FilterDefinition<MirrorConfig> = {
  name: 'mirror',
  parse: (raw: any, path) => (raw?.mirrors instanceof Map && typeof raw.send === 'function' ? { config: raw, errors: [] } : { errors: [`${path}: mirrors (Map) and send are required`] }),
  make: (cfg) => (next) => (ctx) => {
    const m = ctx.route ? cfg.mirrors.get(ctx.route) : undefined;
    const h = ctx.head;
    if (m && h.contentLength <= 0 && !h.chunked && (m.percent >= 100 || (cfg.random ?? Math.random)() * 100 < m.percent)) cfg.send(m, h);
    return next(ctx);
  },
};

const MIRROR_TIMEOUT_MS = 5000;

/** Sends mirror copies through `dial` (HBONE or TCP) to a random endpoint of the mirror cluster. */
export function mirrorSender(dial: Dialer, table: () => RouteTable, index: () => EndpointIndex, onError?: (e: Error) => void): MirrorConfig['send'] {
  return (m, head) => {
    const cluster = table().clusters.get(m.cluster);
    const eps = cluster ? index().endpoints(cluster) : [];
    if (eps.length === 0) return;
    const ep = eps[Math.floor(Math.random() * eps.length)];
    let text = `${head.method} ${head.target} HTTP/1.1\r\n`;
    for (let i = 0; i < head.headers.length; i += 2) {
      const n = head.headers[i];
      if (n === 'connection' || n === 'keep-alive' || n === 'upgrade' || n === 'content-length' || n === 'transfer-encoding') continue;
      text += `${n}: ${n === 'host' ? `${head.host.replace(/:\d+$/, '')}-shadow` : head.headers[i + 1]}\r\n`;
    }
    text += 'connection: close\r\n\r\n';
    dial(ep.address, ep.port, (err, sock) => {
      if (err || !sock) return void onError?.(err ?? new Error('no socket'));
      const timer = setTimeout(() => sock.destroy(), MIRROR_TIMEOUT_MS);
      sock.on('data', () => undefined);
      sock.on('error', () => undefined);
      sock.on('close', () => clearTimeout(timer));
      sock.on('end', () => sock.destroy());
      sock.write(text);
    });
  };
}
