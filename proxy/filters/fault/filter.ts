// The `fault` filter: VirtualService `fault` of the matched route (compiled into its policy, see
// ../../resilience/compile.ts). An abort, on its percentage of requests, answers locally with the HTTP
// status (Envoy's body `fault filter abort`) or, for grpcStatus, as gRPC does (HTTP 200, grpc-status);
// the response flag is FI. A delay, on its percentage, is left in the context for the exchange to wait
// before its first attempt (flag DI), so the connection is not blocked. Runs after `route`. The random
// source is a seam.
import { respond, type FilterDefinition } from '../chain.js';

export interface FaultFilterConfig {
  random?: () => number;
}

export const faultFilter: FilterDefinition<FaultFilterConfig> = {
  name: 'fault',
  parse(raw: any, path) {
    const extra = Object.keys(raw ?? {}).filter((k) => k !== 'random');
    if (extra.length) return { errors: [`${path}: unknown field ${JSON.stringify(extra[0])} (the fault filter reads the route's fault)`] };
    if (raw?.random !== undefined && typeof raw.random !== 'function') return { errors: [`${path}.random: must be a function`] };
    return { config: raw ?? {}, errors: [] };
  },
  make: (cfg) => (next) => {
    const random = cfg.random ?? Math.random;
    return (ctx) => {
      const f = ctx.route?.policy?.fault;
      if (!f) return next(ctx);
      if (f.abort && random() * 100 < f.abort.percent) {
        const a = f.abort;
        if (a.grpcStatus !== undefined) return { ...respond(200, '', ['content-type', 'application/grpc', 'grpc-status', String(a.grpcStatus), 'grpc-message', 'fault filter abort']), flags: 'FI' };
        return { ...respond(a.status, 'fault filter abort'), flags: 'FI' };
      }
      if (f.delay && random() * 100 < f.delay.percent) ctx.delayMs = f.delay.ms;
      return next(ctx);
    };
  },
};
