// `shoal analyze` (istioctl analyze): Istio's analyzer messages for what can be checked from the API
// objects alone — the cross-object problems admission cannot see (Istio's validation webhook does not
// reject them either; its analyzers report them):
//   IST0109 ConflictingMeshGatewayVirtualServiceHosts  two mesh VirtualServices for one host (the oldest wins)
//   IST0101 ReferencedResourceNotFound                 a destination subset no DestinationRule defines; a
//           destination host / HTTPRoute backendRef or parentRef Service that does not exist; a
//           DestinationRule for a host without a Service
//   IST0106 SchemaValidationError                      what admission rejects today but an older object may
//           still carry (weights not summing to 100, the layer-7 checks of networking-l7.ts)
// Pure: objects in, messages out; the CLI reads the objects with the API client.
import { validateDestinationRuleL7, validateVirtualServiceL7 } from '../../../api/kinds/istio/networking-l7.js';

export type Level = 'Error' | 'Warning' | 'Info';

/** One analyzer message (istioctl's diag.Message). */
export interface AnalysisMessage {
  level: Level;
  code: string;
  /** Istio's message type name. */
  type: string;
  /** `VirtualService default/reviews` */
  origin: string;
  /** `spec.http[0].route[1].destination.subset` when known. */
  field?: string;
  message: string;
}

/** Kubernetes-shaped objects (only what the checks read). */
export interface AObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; creationTimestamp?: string };
  spec?: any;
}

export interface AnalysisInput {
  services: readonly AObject[];
  virtualServices?: readonly AObject[];
  destinationRules?: readonly AObject[];
  httpRoutes?: readonly AObject[];
  /** ServiceEntries: their hosts count as known hosts. */
  serviceEntries?: readonly AObject[];
  /** Only objects in these namespaces are reported (all when undefined); every Service is still a known host. */
  namespaces?: readonly string[];
  domain?: string;
}

const asArr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const nsOf = (o: AObject) => o.metadata.namespace ?? 'default';
const id = (o: AObject) => `${nsOf(o)}/${o.metadata.name}`;

/** Istio's short-name resolution: only a name without dots is expanded in the object's namespace. */
export function fqdn(host: string, ns: string, domain = 'cluster.local'): string {
  const h = String(host).toLowerCase();
  return h.includes('.') || h.includes('*') ? h : `${h}.${ns}.svc.${domain}`;
}

/** Glob host match as Istio: `*.example.com` covers `a.example.com`; `*` covers everything. */
function hostCovers(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

const byAge = (a: AObject, b: AObject) =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || id(a).localeCompare(id(b));

/** Every analyzer message for the input, sorted (Errors first, then by origin). */
export function analyze(input: AnalysisInput): AnalysisMessage[] {
  const domain = input.domain ?? 'cluster.local';
  const out: AnalysisMessage[] = [];
  const inScope = (o: AObject) => !input.namespaces || input.namespaces.includes(nsOf(o));
  const push = (o: AObject, kind: string, level: Level, code: string, type: string, message: string, field?: string) => {
    if (inScope(o)) out.push({ level, code, type, origin: `${kind} ${id(o)}`, message, ...(field ? { field } : {}) });
  };

  const services = new Set(input.services.map((s) => fqdn(`${s.metadata.name}.${nsOf(s)}.svc.${domain}`, nsOf(s), domain)));
  const entryHosts = (input.serviceEntries ?? []).flatMap((se) => asArr(se.spec?.hosts).map((h: string) => fqdn(h, nsOf(se), domain)));
  const known = (h: string) => services.has(h) || entryHosts.some((p) => hostCovers(p, h) || hostCovers(h, p));
  const isWildcard = (h: string) => h.includes('*');

  // DestinationRules: subsets per host; a rule for a host with no Service.
  const subsets = new Map<string, Set<string>>();
  for (const dr of input.destinationRules ?? []) {
    const h = fqdn(dr.spec?.host ?? '', nsOf(dr), domain);
    const set = subsets.get(h) ?? new Set<string>();
    for (const s of asArr(dr.spec?.subsets)) set.add(String(s.name));
    subsets.set(h, set);
    if (!isWildcard(h) && !known(h)) push(dr, 'DestinationRule', 'Warning', 'IST0101', 'ReferencedResourceNotFound', `Referenced host not found: "${dr.spec?.host ?? ''}"`, 'spec.host');
    for (const fe of validateDestinationRuleL7(dr)) push(dr, 'DestinationRule', 'Error', 'IST0106', 'SchemaValidationError', `Schema validation error: ${fe.field}: ${fe.detail}`, fe.field);
  }

  // VirtualServices: conflicts per mesh host, destinations, subsets, weights.
  const meshVs = new Map<string, AObject[]>();
  for (const vs of [...(input.virtualServices ?? [])].sort(byAge)) {
    const gws = asArr(vs.spec?.gateways);
    const mesh = gws.length === 0 || gws.includes('mesh');
    if (mesh) for (const h of asArr(vs.spec?.hosts)) {
      const host = fqdn(h, nsOf(vs), domain);
      const list = meshVs.get(host) ?? [];
      if (!list.includes(vs)) list.push(vs);
      meshVs.set(host, list);
    }
    for (const kind of ['http', 'tcp', 'tls'] as const)
      asArr(vs.spec?.[kind]).forEach((r: any, i: number) => {
        const rp = `spec.${kind}[${i}]`;
        const dests: [any, string][] = asArr(r.route).map((d: any, j: number) => [d.destination, `${rp}.route[${j}].destination`]);
        if (kind === 'http' && r.mirror) dests.push([r.mirror, `${rp}.mirror`]);
        asArr(r.mirrors).forEach((m: any, j: number) => dests.push([m.destination, `${rp}.mirrors[${j}].destination`]));
        for (const [d, dp] of dests) {
          if (!d?.host) continue;
          const h = fqdn(d.host, nsOf(vs), domain);
          if (!isWildcard(h) && !known(h)) {
            push(vs, 'VirtualService', 'Error', 'IST0101', 'ReferencedResourceNotFound', `Referenced host not found: "${d.host}"`, `${dp}.host`);
            continue;
          }
          if (d.subset && !subsets.get(h)?.has(d.subset))
            push(vs, 'VirtualService', 'Error', 'IST0101', 'ReferencedResourceNotFound', `Referenced host+subset in destinationrule not found: "${d.host}+${d.subset}"`, `${dp}.subset`);
        }
        const routes = asArr(r.route);
        if (routes.length > 1) {
          const sum = routes.reduce((s: number, x: any) => s + (typeof x.weight === 'number' ? x.weight : 0), 0);
          if (sum !== 100) push(vs, 'VirtualService', 'Error', 'IST0106', 'SchemaValidationError', `Schema validation error: ${rp}.route: total destination weight ${sum} != 100`, `${rp}.route`);
        }
      });
    for (const fe of validateVirtualServiceL7(vs)) push(vs, 'VirtualService', 'Error', 'IST0106', 'SchemaValidationError', `Schema validation error: ${fe.field}: ${fe.detail}`, fe.field);
  }
  for (const [host, list] of meshVs) {
    if (list.length < 2) continue;
    const names = list.map(id).sort().join(',');
    for (const vs of list)
      push(vs, 'VirtualService', 'Error', 'IST0109', 'ConflictingMeshGatewayVirtualServiceHosts',
        `The VirtualServices ${names} associated with mesh gateway define the same host "${host}" which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`, 'spec.hosts');
  }

  // GAMMA HTTPRoutes: Service parents and backends must exist; backend weights are proportions (no sum rule).
  for (const hr of input.httpRoutes ?? []) {
    asArr(hr.spec?.parentRefs).forEach((p: any, i: number) => {
      if ((p.kind ?? 'Gateway') !== 'Service' || (p.group ?? '') !== '') return;
      const h = fqdn(`${p.name}.${p.namespace ?? nsOf(hr)}.svc.${domain}`, nsOf(hr), domain);
      if (!services.has(h)) push(hr, 'HTTPRoute', 'Error', 'IST0101', 'ReferencedResourceNotFound', `Referenced service not found: "${p.name}.${p.namespace ?? nsOf(hr)}"`, `spec.parentRefs[${i}]`);
    });
    asArr(hr.spec?.rules).forEach((r: any, i: number) =>
      asArr(r.backendRefs).forEach((b: any, j: number) => {
        if ((b.kind ?? 'Service') !== 'Service' || (b.group ?? '') !== '') return;
        const h = fqdn(`${b.name}.${b.namespace ?? nsOf(hr)}.svc.${domain}`, nsOf(hr), domain);
        if (!known(h)) push(hr, 'HTTPRoute', 'Error', 'IST0101', 'ReferencedResourceNotFound', `Referenced host not found: "${b.name}.${b.namespace ?? nsOf(hr)}"`, `spec.rules[${i}].backendRefs[${j}]`);
      }));
  }

  const rank: Record<Level, number> = { Error: 0, Warning: 1, Info: 2 };
  return out.sort((a, b) => rank[a.level] - rank[b.level] || a.origin.localeCompare(b.origin) || a.code.localeCompare(b.code) || a.message.localeCompare(b.message));
}

/** istioctl's line: `Error [IST0101] (VirtualService default/reviews) Referenced host+subset …`. */
export function formatMessage(m: AnalysisMessage): string {
  return `${m.level} [${m.code}] (${m.origin}) ${m.message}`;
}
