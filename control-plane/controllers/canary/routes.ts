// The route edits of a canary, pure: in a VirtualService or an HTTPRoute, find the destinations the
// canary manages (the primary subset / Service and the canary one), read their weights and set them,
// leaving every other rule, match, destination and field as it was. The two managed destinations share
// what the primary had when the canary started (100 when alone), so a rule that also sends 10% to a third
// version keeps sending it. Writing the weights the controller last wrote is how it notices a user's own
// edit: when the route's managed weights differ from `appliedWeights`, a person changed them (override).

/** The two destinations a canary manages: VirtualService subsets, or HTTPRoute backend Service names. */
export interface Managed {
  kind: 'VirtualService' | 'HTTPRoute';
  /** the Service the route sends to (short name) */
  service: string;
  namespace: string;
  /** VirtualService: subset names; HTTPRoute: Service names */
  primary: string;
  canary: string;
}

/** The managed destinations' weights as written in the route. */
export interface Weights {
  primary: number;
  canary: number;
}

/** Whether a VirtualService destination host names `service` in `namespace` (short, name.ns, FQDN). */
export function hostIs(host: unknown, service: string, namespace: string): boolean {
  if (typeof host !== 'string') return false;
  return host === service || host === `${service}.${namespace}` || host === `${service}.${namespace}.svc` || host.startsWith(`${service}.${namespace}.svc.`);
}

/** The canary's weight out of the managed share, in percent (0..100), given the route's weights. */
export function canaryPercent(w: Weights): number {
  const total = w.primary + w.canary;
  return total > 0 ? Math.round((w.canary * 100) / total) : 0;
}

/** Split a managed share `total` for `percent` canary: the canary rounds down, the primary takes the rest. */
export function split(total: number, percent: number): Weights {
  const canary = Math.floor((total * percent) / 100);
  return { primary: total - canary, canary };
}

// ---------------------------------------------------------------------------------------------
// VirtualService (networking.istio.io): spec.http[].route[].destination {host, subset}, weight

const isVsPrimary = (d: any, m: Managed) => hostIs(d?.destination?.host, m.service, m.namespace) && (d.destination.subset === m.primary || d.destination.subset === undefined);
const isVsCanary = (d: any, m: Managed) => hostIs(d?.destination?.host, m.service, m.namespace) && d.destination.subset === m.canary;

/** Indexes of the http rules that route to the service's primary (the rules the canary manages). */
export function vsRules(vs: any, m: Managed): number[] {
  const out: number[] = [];
  (vs?.spec?.http ?? []).forEach((r: any, i: number) => {
    if ((r?.route ?? []).some((d: any) => isVsPrimary(d, m) || isVsCanary(d, m))) out.push(i);
  });
  return out;
}

/** Whether this VirtualService routes the service (any http rule with a destination on its host). */
export function vsRoutes(vs: any, service: string, namespace: string): boolean {
  return (vs?.spec?.http ?? []).some((r: any) => (r?.route ?? []).some((d: any) => hostIs(d?.destination?.host, service, namespace)));
}

/** The managed weights of the first managed rule (a lone destination without weight counts 100). */
export function readVsWeights(vs: any, m: Managed): Weights | undefined {
  const i = vsRules(vs, m)[0];
  if (i === undefined) return undefined;
  const route: any[] = vs.spec.http[i].route;
  const w = (d: any) => (typeof d.weight === 'number' ? d.weight : route.length === 1 ? 100 : 0);
  const p = route.find((d) => isVsPrimary(d, m));
  const c = route.find((d) => isVsCanary(d, m));
  return { primary: p ? w(p) : 0, canary: c ? w(c) : 0 };
}

/**
 * A copy of `vs` where every managed rule sends `percent` of its managed share to the canary subset
 * (added after the primary destination when missing, with the primary's port) and the rest to the
 * primary subset (a destination on the host without subset gets the primary subset). Nothing else changes.
 */
export function setVsWeights(vs: any, m: Managed, percent: number): any {
  const out = structuredClone(vs);
  for (const i of vsRules(out, m)) {
    const route: any[] = out.spec.http[i].route;
    const lone = route.length === 1;
    const w = (d: any) => (typeof d?.weight === 'number' ? d.weight : lone ? 100 : 0);
    let pi = route.findIndex((d) => isVsPrimary(d, m));
    let ci = route.findIndex((d) => isVsCanary(d, m));
    const total = (pi >= 0 ? w(route[pi]) : 0) + (ci >= 0 ? w(route[ci]) : 0) || (lone ? 100 : 0);
    if (pi < 0) {
      const c = route[ci];
      route.splice(ci, 0, { ...c, destination: { ...c.destination, subset: m.primary } });
      pi = ci;
      ci++;
    }
    route[pi].destination = { ...route[pi].destination, subset: m.primary };
    if (ci < 0) {
      const p = route[pi];
      route.splice(pi + 1, 0, { destination: { ...p.destination, subset: m.canary } });
      ci = pi + 1;
    }
    const s = split(total, percent);
    route[pi].weight = s.primary;
    route[ci].weight = s.canary;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTPRoute (gateway.networking.k8s.io): spec.rules[].backendRefs[] {name, kind?, namespace?, port, weight}

const isBackend = (b: any, name: string, ns: string) =>
  b?.name === name && (b.kind === undefined || b.kind === 'Service') && (b.group === undefined || b.group === '') && (b.namespace === undefined || b.namespace === ns);

/** Indexes of the rules whose backendRefs include the primary or canary Service. */
export function httpRouteRules(route: any, m: Managed): number[] {
  const out: number[] = [];
  (route?.spec?.rules ?? []).forEach((r: any, i: number) => {
    if ((r?.backendRefs ?? []).some((b: any) => isBackend(b, m.primary, m.namespace) || isBackend(b, m.canary, m.namespace))) out.push(i);
  });
  return out;
}

/** The managed weights of the first managed rule (Gateway API's default weight is 1). */
export function readHttpRouteWeights(route: any, m: Managed): Weights | undefined {
  const i = httpRouteRules(route, m)[0];
  if (i === undefined) return undefined;
  const refs: any[] = route.spec.rules[i].backendRefs;
  const w = (b: any) => (typeof b?.weight === 'number' ? b.weight : 1);
  const p = refs.find((b) => isBackend(b, m.primary, m.namespace));
  const c = refs.find((b) => isBackend(b, m.canary, m.namespace));
  return { primary: p ? w(p) : 0, canary: c ? w(c) : 0 };
}

/** As setVsWeights for an HTTPRoute: the canary Service's backendRef is added after the primary's. */
export function setHttpRouteWeights(route: any, m: Managed, percent: number): any {
  const out = structuredClone(route);
  for (const i of httpRouteRules(out, m)) {
    const refs: any[] = out.spec.rules[i].backendRefs;
    const w = (b: any) => (typeof b?.weight === 'number' ? b.weight : 1);
    const pi = refs.findIndex((b) => isBackend(b, m.primary, m.namespace));
    let ci = refs.findIndex((b) => isBackend(b, m.canary, m.namespace));
    if (pi < 0) continue; // a rule that only names the canary Service is the user's: leave it
    let total = w(refs[pi]) + (ci >= 0 ? w(refs[ci]) : 0);
    if (total > 0 && total < 100) {
      // Gateway API weights are relative: scaling every backendRef of the rule alike keeps their proportions
      // and lets the managed share express whole percents (a lone backend's default weight 1 becomes 100)
      const f = Math.ceil(100 / total);
      for (const b of refs) b.weight = w(b) * f;
      total *= f;
    }
    if (ci < 0) {
      const { weight: _w, filters: _f, ...rest } = refs[pi];
      refs.splice(pi + 1, 0, { ...rest, name: m.canary });
      ci = pi + 1;
    }
    const s = split(total, percent);
    refs[pi].weight = s.primary;
    refs[ci].weight = s.canary;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Either kind

/** The managed weights of a route of either kind. */
export function readWeights(route: any, m: Managed): Weights | undefined {
  return m.kind === 'VirtualService' ? readVsWeights(route, m) : readHttpRouteWeights(route, m);
}

/** A copy of the route with the canary at `percent` of the managed share. */
export function setWeights(route: any, m: Managed, percent: number): any {
  return m.kind === 'VirtualService' ? setVsWeights(route, m, percent) : setHttpRouteWeights(route, m, percent);
}

/** Whether the route's managed weights differ from what the controller last wrote (a person edited them). */
export function isOverride(route: any, m: Managed, applied: Weights | undefined): boolean {
  if (!applied) return false;
  const now = readWeights(route, m);
  if (!now) return true; // the managed destinations were removed by hand
  return now.primary !== applied.primary || now.canary !== applied.canary;
}

/** A copy of an HTTPRoute without the canary's backendRefs (its Service is deleted after the run). */
export function dropHttpRouteCanary(route: any, m: Managed): any {
  const out = structuredClone(route);
  for (const i of httpRouteRules(out, m)) out.spec.rules[i].backendRefs = out.spec.rules[i].backendRefs.filter((b: any) => !isBackend(b, m.canary, m.namespace));
  return out;
}
