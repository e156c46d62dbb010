// Gateway API GRPCRoute as the HTTPRoute it is on the wire: gRPC calls are HTTP/2 POSTs to
// `/<package.Service>/<Method>`, so each GRPCRouteMatch becomes an HTTPRouteMatch on that path —
//   service + method, Exact       → path Exact `/svc/Method`
//   service only, Exact           → path PathPrefix `/svc` (segment-wise: `/svc/…`)
//   method only, Exact            → path RegularExpression `/[^/]+/Method`
//   RegularExpression             → path RegularExpression `/(svc)/(method)` (a missing part is `[^/]+`)
// headers, filters (RequestHeaderModifier, ResponseHeaderModifier, RequestMirror) and backendRefs carry
// over unchanged, so GAMMA (Service parents, gamma.ts) and the ingress's Gateway parents compile it with
// the HTTPRoute code: one route engine.
import type { KObject } from './compile.js';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One GRPCRouteMatch → an HTTPRouteMatch. */
export function grpcMatchAsHttp(m: any): any {
  const meth = m?.method;
  const out: any = {};
  if (meth && (meth.service || meth.method)) {
    if ((meth.type ?? 'Exact') === 'RegularExpression') out.path = { type: 'RegularExpression', value: `/${meth.service ? `(${meth.service})` : '[^/]+'}/${meth.method ? `(${meth.method})` : '[^/]+'}` };
    else if (meth.service && meth.method) out.path = { type: 'Exact', value: `/${meth.service}/${meth.method}` };
    else if (meth.service) out.path = { type: 'PathPrefix', value: `/${meth.service}` };
    else out.path = { type: 'RegularExpression', value: `/[^/]+/${esc(meth.method)}` };
  }
  if (m?.headers) out.headers = m.headers;
  return out;
}

/** A GRPCRoute as an HTTPRoute object (same metadata, parents, rules with matches translated). */
export function grpcRouteAsHttpRoute(gr: KObject): KObject {
  return {
    metadata: gr.metadata,
    spec: {
      ...gr.spec,
      rules: (gr.spec?.rules ?? []).map((r: any) => ({ ...r, ...(r.matches ? { matches: r.matches.map(grpcMatchAsHttp) } : {}) })),
    },
  };
}
