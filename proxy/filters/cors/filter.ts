// The `cors` filter: VirtualService `corsPolicy` of the matched route (compiled into its policy, see
// ../../resilience/compile.ts), as Envoy's CORS filter does it. A preflight (OPTIONS with Origin and
// Access-Control-Request-Method) from an allowed origin is answered here (200, the allow headers); an
// ordinary request from an allowed origin goes on and its response gets Access-Control-Allow-Origin
// (+ Expose-Headers, Allow-Credentials). Requests without Origin, or from other origins, are untouched.
// Runs after `route`.
import { respond, type FilterDefinition } from '../chain.js';
import { headerValue } from '../../telemetry/access-log.js';

export type CorsFilterConfig = Record<string, never>;

export const corsFilter: FilterDefinition<CorsFilterConfig> = {
  name: 'cors',
  parse(raw: any, path) {
    const extra = Object.keys(raw ?? {});
    return extra.length ? { errors: [`${path}: unknown field ${JSON.stringify(extra[0])} (the cors filter reads the route's corsPolicy)`] } : { config: {}, errors: [] };
  },
  make: () => (next) => (ctx) => {
    const cors = ctx.route?.policy?.cors;
    if (!cors) return next(ctx);
    const origin = headerValue(ctx.head.headers, 'origin');
    if (origin === null || !cors.allowOrigin(origin)) return next(ctx);
    const credentials = cors.allowCredentials ? ['access-control-allow-credentials', 'true'] : [];
    if (ctx.head.method === 'OPTIONS' && headerValue(ctx.head.headers, 'access-control-request-method') !== null) {
      const h = ['access-control-allow-origin', origin, ...credentials];
      if (cors.allowMethods) h.push('access-control-allow-methods', cors.allowMethods);
      if (cors.allowHeaders) h.push('access-control-allow-headers', cors.allowHeaders);
      if (cors.maxAge) h.push('access-control-max-age', cors.maxAge);
      return respond(200, '', h);
    }
    const add: [string, string][] = [['access-control-allow-origin', origin]];
    if (cors.allowCredentials) add.push(['access-control-allow-credentials', 'true']);
    if (cors.exposeHeaders) add.push(['access-control-expose-headers', cors.exposeHeaders]);
    ctx.responseOps.push({ set: add, add: [], remove: [] });
    return next(ctx);
  },
};
