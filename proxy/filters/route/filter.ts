// The `route` filter: finds the virtual host by the request's authority and destination port, the first
// matching route, and — for a route action — the weighted destination (the canary split). No virtual host:
// 404 `route_not_found` unless `passthroughUnknown` (then the router forwards to the original destination).
// A virtual host with no matching route: 404, as Envoy answers (NR).
import { findRoute, findVirtualHost } from '../../route/match.js';
import type { RouteTable } from '../../route/types.js';
import { respond, type FilterDefinition } from '../chain.js';

export interface RouteFilterConfig {
  table: RouteTable;
  passthroughUnknown: boolean;
  /** Sidecar outboundTrafficPolicy REGISTRY_ONLY: an unknown authority gets 502 (Envoy's BlackHoleCluster). */
  blackholeUnknown?: boolean;
}

export const routeFilter: FilterDefinition<RouteFilterConfig> = {
  name: 'route',
  parse(raw: any, path) {
    const errors: string[] = [];
    if (!raw?.table?.ports || !raw.table.clusters) errors.push(`${path}.table: a compiled RouteTable is required`);
    for (const k of ['passthroughUnknown', 'blackholeUnknown'])
      if (raw?.[k] !== undefined && typeof raw[k] !== 'boolean') errors.push(`${path}.${k}: must be a boolean`);
    return errors.length ? { errors } : { config: { table: raw.table, passthroughUnknown: raw.passthroughUnknown ?? false, blackholeUnknown: raw.blackholeUnknown ?? false }, errors };
  },
  make: (cfg) => (next) => (ctx) => {
    const vh = findVirtualHost(cfg.table, ctx.view.authority, ctx.view.port);
    if (!vh) return cfg.blackholeUnknown ? respond(502, '') : cfg.passthroughUnknown ? next(ctx) : respond(404, '');
    ctx.vhost = vh;
    const found = findRoute(vh, ctx.view);
    if (!found) return respond(404, '');
    ctx.route = found.route;
    ctx.match = found.match;
    if (found.route.action.kind === 'route') ctx.destination = found.route.action.pick();
    return next(ctx);
  },
};
