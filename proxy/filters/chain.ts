// The HTTP filter chain. A filter is a function from the next handler to a handler; a chain is built from
// an ordered list that is data (`[{name, config}]`), each config parsed and validated once by its filter's
// definition (errors with paths), then frozen. A handler returns what happened — `forward` (to a cluster
// endpoint, with the head to send), `respond` (a local answer) or `stop` (close) — it never throws for a
// request's sake. Per-request state is one cheap `HttpContext`.
//
//   [{name:'authz-http'}, {name:'route'}, {name:'redirect'}, {name:'header-modifier'}] + terminal 'router'
//   handler = authz(route(redirect(headerModifier(router))))
import type { Decision } from '../http1/connection.js';
import type { HeaderOps } from '../http1/headers.js';
import type { RequestHead } from '../http1/parse.js';
import type { CompiledMatch, RequestView, Route, RouteDestination, VirtualHost } from '../route/types.js';

/** What the connection knows about the peer (mTLS identity, addresses), for authz and routing. */
export interface PeerInfo {
  /** Peer identity without `spiffe://` ('' when not mTLS). */
  principal: string;
  namespace: string;
  sourceIp: string;
  destinationIp: string;
  destinationPort: number;
  sourceLabels: Readonly<Record<string, string>>;
  sni?: string;
}

/** Per-request state, created once per request and handed down the chain. */
export interface HttpContext {
  /** The head to forward; filters replace it (`{...head, headers}`), never edit the parsed one in place. */
  head: RequestHead;
  /** The request as routing sees it (kept in sync with `head` by the filters that change it). */
  view: RequestView;
  peer: PeerInfo;
  vhost?: VirtualHost;
  route?: Route;
  match?: CompiledMatch | null;
  destination?: RouteDestination;
  /** Response header operations gathered on the way (applied in order). */
  responseOps: HeaderOps[];
  /** Set-Cookie a balancer asks for (consistent hash cookie). */
  setCookie?: string;
  /** The verified JWT (jwt-authn): request principal `iss/sub`, claims, audiences, presenter. */
  auth?: { principal: string; claims: Record<string, any>; audiences: string[]; presenter: string };
  /** A fault delay the fault filter injected (the exchange waits this long before its first attempt). */
  delayMs?: number;
}

/** The outcome of a handler. */
export type Outcome = Decision;

export type Handler = (ctx: HttpContext) => Outcome;
export type Filter = (next: Handler) => Handler;

/** A filter kind: parses its config (once, errors with paths) and makes the filter from it. */
export interface FilterDefinition<C> {
  name: string;
  parse(raw: unknown, path: string): { config?: C; errors: string[] };
  make(config: C): Filter;
}

/** One entry of a chain as data. */
export interface ChainEntry {
  name: string;
  config?: unknown;
}

/** Builds `handler` from the list; any error leaves `handler` undefined (the caller NACKs). */
export function buildChain(entries: readonly ChainEntry[], registry: ReadonlyMap<string, FilterDefinition<any>>, terminal: Handler, path = 'filters'): { handler?: Handler; errors: string[] } {
  const errors: string[] = [];
  const filters: Filter[] = [];
  entries.forEach((e, i) => {
    const def = registry.get(e.name);
    if (!def) return void errors.push(`${path}[${i}].name: unknown filter ${JSON.stringify(e.name)}; known: ${[...registry.keys()].join(', ')}`);
    const { config, errors: errs } = def.parse(e.config ?? {}, `${path}[${i}].config`);
    errors.push(...errs);
    if (errs.length === 0) filters.push(def.make(deepFreeze(config)));
  });
  if (errors.length > 0) return { errors };
  return { handler: filters.reduceRight<Handler>((next, f) => f(next), terminal), errors };
}

/** A local response outcome. */
export function respond(status: number, body: string | Buffer, headers: string[] = ['content-type', 'text/plain']): Outcome {
  return { kind: 'respond', status, headers, body };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o) && !(o instanceof Map) && !Buffer.isBuffer(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The request view of a parsed head (scheme `http`: TLS is terminated by the sidecar's tunnel). */
export function viewOf(head: RequestHead, peer: PeerInfo, port: number, scheme = 'http'): RequestView {
  return {
    method: head.method, scheme, authority: head.host, path: head.target, headers: head.headers, port,
    sourceLabels: peer.sourceLabels, sourceNamespace: peer.namespace, sourceIp: peer.sourceIp,
  };
}
