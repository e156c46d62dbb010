// One workload's details panel: what routes to it (the VirtualServices and DestinationRules naming the
// Services that select its pods, with each route's weights), which policies apply to it
// (PeerAuthentications and AuthorizationPolicies of its namespace and of the mesh root namespace whose
// selector matches its pods, or that have none), and its certificate (the sidecar admin's /certs of one of
// its pods: SPIFFE identity, serial, validity). Read from the API on each request: a click, not a stream.

import type { KubeObject } from '../../api/meta.js';
import type { Target } from '../scrape/scraper.js';

/** The API reads the panel needs (fakes in tests). */
export interface DetailSources {
  list(kind: 'services' | 'virtualservices' | 'destinationrules' | 'peerauthentications' | 'authorizationpolicies', namespace?: string): Promise<KubeObject[]>;
  /** the sidecar admin's /certs JSON of a pod at `ip` */
  certs(ip: string): Promise<unknown>;
}

/** The panel. */
export interface WorkloadDetails {
  namespace: string;
  workload: string;
  app: string;
  version: string;
  pods: { name: string; ip: string; scrapeError: string }[];
  services: string[];
  routes: { kind: 'VirtualService' | 'DestinationRule'; name: string; namespace: string; summary: string[]; spec: unknown }[];
  policies: { kind: 'PeerAuthentication' | 'AuthorizationPolicy'; name: string; namespace: string; summary: string; spec: unknown }[];
  certificate: { identity: string; serial: string; validFrom: string; expires: string; daysLeft: number } | { error: string } | null;
}

const matches = (sel: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);

/** The names a VirtualService/DestinationRule host may use for a Service: short, name.ns, FQDN (and `*`). */
function hostNames(svc: KubeObject): string[] {
  const n = svc.metadata.name!, ns = svc.metadata.namespace!;
  return [n, `${n}.${ns}`, `${n}.${ns}.svc`, `${n}.${ns}.svc.cluster.local`];
}

function hostMatches(host: string, svc: KubeObject, objNs: string): boolean {
  const names = hostNames(svc);
  if (!host.includes('.') && objNs !== svc.metadata.namespace) return false;
  if (host.startsWith('*')) return names[3]!.endsWith(host.slice(1));
  return names.includes(host);
}

/** Each HTTP route of a VirtualService as text: `match → host/subset 90%, host/subset 10%`. */
export function routeSummary(spec: any): string[] {
  return ((spec?.http ?? []) as any[]).map((r, i) => {
    const match = (r.match ?? []).map((m: any) => Object.entries(m).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(' ')).join(' or ');
    const dests = (r.route ?? []).map((d: any) => `${d.destination?.host ?? '?'}${d.destination?.subset ? `/${d.destination.subset}` : ''}${d.weight !== undefined ? ` ${d.weight}%` : ''}`).join(', ');
    const extra = [r.redirect ? 'redirect' : '', r.fault ? 'fault' : '', r.retries ? 'retries' : '', r.timeout ? `timeout ${r.timeout}` : ''].filter(Boolean).join(', ');
    return `${r.name ?? `#${i}`}: ${match || 'any request'} → ${dests || (r.redirect ? JSON.stringify(r.redirect) : '—')}${extra ? ` (${extra})` : ''}`;
  });
}

function policySummary(kind: string, spec: any): string {
  if (kind === 'PeerAuthentication') {
    const ports = Object.entries(spec?.portLevelMtls ?? {}).map(([p, m]: [string, any]) => `${p}:${m.mode}`).join(' ');
    return `mTLS ${spec?.mtls?.mode ?? 'UNSET'}${ports ? ` (ports ${ports})` : ''}`;
  }
  const from = ((spec?.rules ?? []) as any[]).flatMap((r) => (r.from ?? []).flatMap((f: any) => [...(f.source?.principals ?? []), ...(f.source?.namespaces ?? []).map((n: string) => `ns ${n}`)]));
  return `${spec?.action ?? 'ALLOW'} ${spec?.rules ? `${spec.rules.length} rule(s)` : 'no rules'}${from.length ? ` from ${from.join(', ')}` : ''}`;
}

/** The panel of `namespace/workload` among the scraped `targets`. */
export async function workloadDetails(src: DetailSources, targets: readonly Target[], namespace: string, workload: string, rootNamespace = 'istio-system'): Promise<WorkloadDetails | undefined> {
  const pods = targets.filter((t) => t.namespace === namespace && t.workload === workload);
  if (!pods.length) return undefined;
  const labels = pods[0]!.labels;
  const [svcs, vss, drs, pas, aps] = await Promise.all([
    src.list('services', namespace), src.list('virtualservices'), src.list('destinationrules'),
    src.list('peerauthentications'), src.list('authorizationpolicies'),
  ]);
  const mine = svcs.filter((s) => s.spec?.selector && Object.keys(s.spec.selector).length && matches(s.spec.selector, labels));
  const routes: WorkloadDetails['routes'] = [];
  for (const vs of vss) {
    if (!(vs.spec?.hosts ?? []).some((h: string) => mine.some((s) => hostMatches(h, s, vs.metadata.namespace!)))) continue;
    routes.push({ kind: 'VirtualService', name: vs.metadata.name!, namespace: vs.metadata.namespace!, summary: routeSummary(vs.spec), spec: vs.spec });
  }
  for (const dr of drs) {
    if (!mine.some((s) => hostMatches(dr.spec?.host ?? '', s, dr.metadata.namespace!))) continue;
    const subsets = ((dr.spec?.subsets ?? []) as any[]).map((s) => `${s.name} (${Object.entries(s.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')})`);
    const lb = dr.spec?.trafficPolicy?.loadBalancer;
    const tls = dr.spec?.trafficPolicy?.tls?.mode;
    routes.push({
      kind: 'DestinationRule', name: dr.metadata.name!, namespace: dr.metadata.namespace!, spec: dr.spec,
      summary: [`subsets: ${subsets.join(', ') || 'none'}`, ...(lb ? [`load balancer: ${JSON.stringify(lb)}`] : []), ...(tls ? [`tls: ${tls}`] : [])],
    });
  }
  const applies = (o: KubeObject) => (o.metadata.namespace === namespace || o.metadata.namespace === rootNamespace) &&
    (!o.spec?.selector?.matchLabels || matches(o.spec.selector.matchLabels, labels));
  const policies: WorkloadDetails['policies'] = [
    ...pas.filter(applies).map((o) => ({ kind: 'PeerAuthentication' as const, name: o.metadata.name!, namespace: o.metadata.namespace!, summary: policySummary('PeerAuthentication', o.spec), spec: o.spec })),
    ...aps.filter(applies).map((o) => ({ kind: 'AuthorizationPolicy' as const, name: o.metadata.name!, namespace: o.metadata.namespace!, summary: policySummary('AuthorizationPolicy', o.spec), spec: o.spec })),
  ];
  let certificate: WorkloadDetails['certificate'] = null;
  try {
    const c = ((await src.certs(pods[0]!.ip)) as any)?.certificates?.[0];
    if (c) certificate = { identity: c.identity, serial: c.serial_number, validFrom: c.valid_from, expires: c.expiration_time, daysLeft: c.days_until_expiration };
  } catch (e) {
    certificate = { error: (e as Error).message };
  }
  return {
    namespace, workload, app: pods[0]!.app, version: pods[0]!.version,
    pods: pods.map((p) => ({ name: p.name, ip: p.ip, scrapeError: p.error })),
    services: mine.map((s) => `${s.metadata.name}.${s.metadata.namespace}`), routes, policies, certificate,
  };
}
