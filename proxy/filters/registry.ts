// The built-in HTTP filters by name (the `plugin.cfg` of the chain), the default sidecar order, and the
// adapter from a chain handler to the HTTP/1 connection's `dispatch`.
import type { Dispatch } from '../http1/connection.js';
import type { RequestHead } from '../http1/parse.js';
import { authzHttpFilter } from './authz-http/filter.js';
import { viewOf, type FilterDefinition, type Handler, type HttpContext, type PeerInfo } from './chain.js';
import { headerModifierFilter } from './header-modifier/filter.js';
import { jwtAuthnFilter } from './jwt-authn/filter.js';
import { redirectFilter } from './redirect/filter.js';
import { routeFilter } from './route/filter.js';
import { faultFilter } from './fault/filter.js';
import { corsFilter } from './cors/filter.js';

/** Every built-in filter. */
export const BUILTIN_FILTERS: ReadonlyMap<string, FilterDefinition<any>> = new Map<string, FilterDefinition<any>>(
  [jwtAuthnFilter, authzHttpFilter, routeFilter, corsFilter, faultFilter, redirectFilter, headerModifierFilter].map((d) => [d.name, d]),
);

/** The order a sidecar's outbound chain uses (inbound: authz-http first, then the local app). */
export const DEFAULT_ORDER = ['authz-http', 'route', 'cors', 'fault', 'redirect', 'header-modifier'] as const;

/** A connection-level dispatch running `handler` with a fresh context per request. */
export function dispatchFor(handler: Handler, peer: (info: { remoteAddress: string; localPort: number }) => PeerInfo, port: number): Dispatch {
  return (head: RequestHead, info) => {
    const p = peer(info);
    const ctx: HttpContext = { head, view: viewOf(head, p, port), peer: p, responseOps: [] };
    return handler(ctx);
  };
}
