// The `redirect` filter: answers routes whose action is a redirect (Location built from the route's
// redirect and the request, status `redirectCode`, 301 by default) or a direct response (status and
// body); every other request goes on. Runs after `route`; the route's response header operations apply
// to these local answers too, as Envoy applies them.
import { applyHeaderOps } from '../../http1/headers.js';
import { redirectLocation } from '../../route/match.js';
import { respond, type FilterDefinition } from '../chain.js';

export type RedirectFilterConfig = Record<string, never>;

export const redirectFilter: FilterDefinition<RedirectFilterConfig> = {
  name: 'redirect',
  parse(raw: any, path) {
    const extra = Object.keys(raw ?? {});
    return extra.length ? { errors: [`${path}: unknown field ${JSON.stringify(extra[0])} (the redirect filter has no settings)`] } : { config: {}, errors: [] };
  },
  make: () => (next) => (ctx) => {
    const route = ctx.route;
    if (!route) return next(ctx);
    const a = route.action;
    if (a.kind === 'redirect') {
      const headers = applyHeaderOps(['location', redirectLocation(route, ctx.match ?? null, ctx.view)], route.responseOps);
      return respond(a.redirect.code, '', headers);
    }
    if (a.kind === 'direct') {
      const type = a.body.length > 0 ? ['content-type', 'text/plain'] : [];
      return respond(a.status, a.body, applyHeaderOps(type, route.responseOps));
    }
    return next(ctx);
  },
};
