// The standalone HTTP/1.1 proxy the benchmark drives: proxy/http1 (raw-socket parsing, keep-alive pool)
// forwarding every request to one upstream, either directly (`raw`) or through the sidecar's filter chain
// (`chain`: authz-http, route, redirect, header-modifier, router over a compiled VirtualService table).
//   node dist/bench/proxy-l7/proxy.js LISTEN_PORT UPSTREAM_PORT [raw|chain]
import { createServer } from 'node:net';
import { serveHttp1, type Decision, type Dispatch } from '../../proxy/http1/connection.js';
import { NO_OPS } from '../../proxy/http1/headers.js';
import { UpstreamPool } from '../../proxy/http1/pool.js';
import { buildChain } from '../../proxy/filters/chain.js';
import { BUILTIN_FILTERS, DEFAULT_ORDER, dispatchFor } from '../../proxy/filters/registry.js';
import { makeRouter } from '../../proxy/filters/router/filter.js';
import { compileRouteTable } from '../../proxy/route/compile.js';

const [listen, upstream] = process.argv.slice(2, 4).map(Number);
const mode = process.argv[4] ?? 'raw';
const pool = new UpstreamPool();

function chainDispatch(): Dispatch {
  const meta = { namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' };
  const { table } = compileRouteTable({
    services: [{ name: 'web', namespace: 'default', hostname: 'web.default.svc.cluster.local', vips: ['127.0.0.1'], ports: [{ name: 'http', port: listen }] }],
    destinationRules: [{ metadata: { name: 'web', ...meta }, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }] } }],
    virtualServices: [{ metadata: { name: 'web', ...meta }, spec: { hosts: ['web'], http: [
      { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'web', subset: 'v1' } }] },
      { match: [{ uri: { prefix: '/' } }], route: [{ destination: { host: 'web', subset: 'v1' }, weight: 100 }] },
    ] } }],
  });
  const router = makeRouter({ table, endpoints: () => [{ address: '127.0.0.1', port: upstream, labels: { version: 'v1' } }] });
  const entries = DEFAULT_ORDER.map((name) => ({ name, config: name === 'route' ? { table, passthroughUnknown: false } : {} }));
  const { handler, errors } = buildChain(entries, BUILTIN_FILTERS, router);
  if (!handler) throw new Error(errors.join('\n'));
  const peer = { principal: '', namespace: 'default', sourceIp: '127.0.0.1', destinationIp: '127.0.0.1', destinationPort: listen, sourceLabels: {} };
  // wrk sends Host: 127.0.0.1:PORT, which is the Service's VIP here.
  return dispatchFor(handler, () => peer, listen);
}

const dispatch: Dispatch = mode === 'chain' ? chainDispatch()
  : (head): Decision => ({ kind: 'forward', address: '127.0.0.1', port: upstream, head, responseOps: NO_OPS });
const server = createServer((sock) => serveHttp1(sock, dispatch, pool));
server.listen(listen, '127.0.0.1', () => process.send?.('ready'));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
