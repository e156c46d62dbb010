// The `header-modifier` filter: applies Istio's request header operations of the chosen route, then of
// the chosen destination (Envoy's order: route-level, then weighted-cluster level), and records the
// response operations (destination, then route) for the connection to apply to the upstream's response.
// Its own config may add operations for every request (`request`, `response`: `{set, add, remove}`).
import { applyHeaderOps, compileHeaderOps, type HeaderOps } from '../../http1/headers.js';
import type { FilterDefinition } from '../chain.js';

export interface HeaderModifierConfig {
  request: HeaderOps;
  response: HeaderOps;
}

function checkOps(o: any, path: string, errors: string[]): void {
  if (o === undefined) return;
  if (typeof o !== 'object' || o === null) return void errors.push(`${path}: must be an object with set, add, remove`);
  for (const k of Object.keys(o)) if (!['set', 'add', 'remove'].includes(k)) errors.push(`${path}.${k}: unknown field`);
  for (const k of ['set', 'add'])
    for (const [n, v] of Object.entries(o[k] ?? {}))
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n)) errors.push(`${path}.${k}.${n}: invalid header name`);
      // eslint-disable-next-line no-control-regex
      else if (typeof v !== 'string' || /[\x00-\x08\x0a-\x1f\x7f]/.test(v)) errors.push(`${path}.${k}.${n}: invalid header value`);
  if (o.remove !== undefined && !Array.isArray(o.remove)) errors.push(`${path}.remove: must be a list of header names`);
}

export const headerModifierFilter: FilterDefinition<HeaderModifierConfig> = {
  name: 'header-modifier',
  parse(raw: any, path) {
    const errors: string[] = [];
    checkOps(raw?.request, `${path}.request`, errors);
    checkOps(raw?.response, `${path}.response`, errors);
    return errors.length ? { errors } : { config: { request: compileHeaderOps(raw?.request), response: compileHeaderOps(raw?.response) }, errors };
  },
  make: (cfg) => (next) => (ctx) => {
    let headers = ctx.head.headers;
    const route = ctx.route, dest = ctx.destination;
    if (route) headers = applyHeaderOps(headers, route.requestOps);
    if (dest) headers = applyHeaderOps(headers, dest.requestOps);
    headers = applyHeaderOps(headers, cfg.request);
    if (headers !== ctx.head.headers) {
      ctx.head = { ...ctx.head, headers };
      ctx.view = { ...ctx.view, headers };
    }
    if (dest) ctx.responseOps.push(dest.responseOps);
    if (route) ctx.responseOps.push(route.responseOps);
    ctx.responseOps.push(cfg.response);
    return next(ctx);
  },
};
