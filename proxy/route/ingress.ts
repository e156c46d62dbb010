// The Ingress compiler: networking.k8s.io/v1 Ingresses of one IngressClass → virtual hosts of a RouteTable
// keyed by the ingress's listener ports (80 plain, 443 TLS), the same model the sidecar routes with.
//   - host rules exact or `*.` wildcard (one DNS label, as Kubernetes defines: `*.foo.com` matches
//     `bar.foo.com`, not `baz.bar.foo.com` nor `foo.com`); a rule without host goes to the `*` host;
//   - pathType Exact (the whole path), Prefix (element by element: `/foo` matches `/foo`, `/foo/`, `/foo/bar`,
//     not `/foobar`; a trailing `/` in the rule is ignored), ImplementationSpecific (as Prefix);
//   - precedence: the longest path first, Exact before Prefix at equal length, then the oldest Ingress;
//     Ingresses for the same host are merged (as ingress-nginx does); `defaultBackend` answers what no path
//     matched on that Ingress's hosts and on the `*` host (oldest Ingress with one wins);
//   - backends by service port number or name; a missing Service or port compiles to a cluster that does
//     not exist (the router answers 503) and is reported per Ingress (status and events by the controller);
//   - ingress-nginx annotations: rewrite-target (the path becomes a case-insensitive regex prefix and the
//     whole URI is replaced, `$1`… from its groups, as nginx `rewrite … break`), ssl-redirect (default true
//     for hosts with TLS) and force-ssl-redirect (308 to https), canary with canary-weight
//     (+ canary-weight-total), canary-by-header (`always`/`never`) and canary-by-header-value.
// Pure: no I/O. Problems come back as `Ingress ns/name: field.path: why`.
import { effectiveLb } from '../balance/policy.js';
import { NO_OPS } from '../http1/headers.js';
import { clusterName, smoothWeighted, type ServiceInfo } from './compile.js';
import { pathOnly } from './match.js';
import type { Cluster, CompiledMatch, RequestView, Route, RouteAction, RouteDestination, VirtualHost } from './types.js';

/** The annotation prefix of ingress-nginx (the annotations Shoal honours keep it, so manifests move over). */
export const NGINX = 'nginx.ingress.kubernetes.io/';

/** An Ingress as the compiler reads it. */
export interface IngressObject {
  metadata: { name: string; namespace?: string; creationTimestamp?: string; annotations?: Record<string, string> };
  spec: any;
}

export interface IngressCompileInput {
  services: readonly ServiceInfo[];
  ingresses: readonly IngressObject[];
  /** The plain and TLS listener ports the routes are keyed by (80, 443). */
  httpPort?: number;
  httpsPort?: number;
  /** The port a redirect to https names (443: none in the Location). */
  redirectPort?: number;
  domain?: string;
}

/** A TLS entry: the Secret serving `hosts` (`*.x` allowed; empty hosts: every host of the Ingress). */
export interface IngressTls { ingress: string; secret: string; hosts: string[] }

export interface IngressCompileResult {
  /** Virtual hosts by listener port, then domain (`*` = any). */
  ports: Map<number, Map<string, VirtualHost>>;
  clusters: Map<string, Cluster>;
  tls: IngressTls[];
  /** Problems per Ingress (`ns/name` → messages naming the field path). */
  problems: Map<string, string[]>;
}

interface PathEntry {
  host: string;
  path: string;
  pathType: string;
  ingress: IngressObject;
  src: string;
  dest: RouteDestination;
  rewrite?: string;
  regex?: RegExp;
  canary?: { weight: number; total: number; header?: string; headerValue?: string; dest: RouteDestination };
  order: number;
}

const nsOf = (o: IngressObject) => o.metadata.namespace ?? 'default';
const idOf = (o: IngressObject) => `${nsOf(o)}/${o.metadata.name}`;
const byAge = (a: IngressObject, b: IngressObject) =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || idOf(a).localeCompare(idOf(b));

/** Kubernetes' Prefix match, element-wise; `prefix` without trailing slashes ('' matches every path). */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47);
}

/** One label for a Kubernetes wildcard: `*.foo.com` holds for `bar.foo.com` only. */
function wildcardOneLabel(host: string): (r: RequestView) => boolean {
  const suffix = host.slice(1);
  return (r) => {
    const a = stripPort(r.authority.toLowerCase());
    return a.endsWith(suffix) && a.length > suffix.length && !a.slice(0, a.length - suffix.length).includes('.');
  };
}

function stripPort(a: string): string {
  if (a.startsWith('[')) return a.slice(0, a.indexOf(']') + 1);
  const c = a.lastIndexOf(':');
  return c === -1 ? a : a.slice(0, c);
}

const bool = (v: string | undefined, dflt: boolean) => (v === undefined ? dflt : v.trim().toLowerCase() === 'true');

/** Compiles the Ingresses (already filtered to this controller's class). */
export function compileIngresses(input: IngressCompileInput): IngressCompileResult {
  const domain = input.domain ?? 'cluster.local';
  const httpPort = input.httpPort ?? 80, httpsPort = input.httpsPort ?? 443;
  const svcs = new Map(input.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  const clusters = new Map<string, Cluster>();
  const problems = new Map<string, string[]>();
  const tls: IngressTls[] = [];
  const report = (o: IngressObject, msg: string) => {
    let l = problems.get(idOf(o));
    if (!l) problems.set(idOf(o), (l = []));
    l.push(msg);
  };

  // backend → destination (the cluster exists only when the Service and its port do).
  const destOf = (o: IngressObject, b: any, p: string): RouteDestination => {
    const ns = nsOf(o);
    const name = String(b?.service?.name ?? '');
    const svc = svcs.get(`${ns}/${name}`);
    const host = `${name}.${ns}.svc.${domain}`;
    let port = Number(b?.service?.port?.number ?? 0);
    if (!b?.service) report(o, `${p}: only service backends are supported (resource backends are not)`);
    else if (!svc) report(o, `${p}.service.name: Service ${ns}/${name} not found`);
    else if (b.service.port?.name !== undefined) {
      const sp = svc.ports.find((x) => x.name === b.service.port.name);
      if (!sp) report(o, `${p}.service.port.name: Service ${ns}/${name} has no port named ${JSON.stringify(b.service.port.name)}`);
      else port = sp.port;
    } else if (!svc.ports.some((x) => x.port === port)) report(o, `${p}.service.port.number: Service ${ns}/${name} has no port ${port}`);
    const cluster = clusterName(port, '', host);
    if (svc && svc.ports.some((x) => x.port === port) && !clusters.has(cluster))
      clusters.set(cluster, Object.freeze({ name: cluster, host, port, subset: '', labels: Object.freeze({}), lb: effectiveLb(undefined, undefined, port, '', []) }));
    return Object.freeze({ cluster, host, port, subset: '', weight: 100, requestOps: NO_OPS, responseOps: NO_OPS });
  };

  const sorted = [...input.ingresses].sort(byAge);
  const mains = sorted.filter((o) => !bool(o.metadata.annotations?.[`${NGINX}canary`], false));
  const canaries = sorted.filter((o) => bool(o.metadata.annotations?.[`${NGINX}canary`], false));
  const entries: PathEntry[] = [];
  const defaults = new Map<string, RouteDestination>(); // host → default backend ('*' too)
  const tlsHosts = new Set<string>();
  const forceSsl = new Set<string>();
  const noSslRedirect = new Set<string>();
  let order = 0;

  const hostsOf = (o: IngressObject): string[] => [...new Set((o.spec?.rules ?? []).map((r: any) => String(r.host ?? '').toLowerCase() || '*'))] as string[];
  for (const o of mains) {
    const a = o.metadata.annotations ?? {};
    const rewrite = a[`${NGINX}rewrite-target`];
    const useRegex = rewrite !== undefined || bool(a[`${NGINX}use-regex`], false);
    const hosts = hostsOf(o);
    (o.spec?.tls ?? []).forEach((t: any, i: number) => {
      const th = (t.hosts ?? []).map((h: string) => h.toLowerCase());
      for (const h of th.length ? th : hosts) tlsHosts.add(h);
      if (t.secretName) tls.push({ ingress: idOf(o), secret: `${nsOf(o)}/${t.secretName}`, hosts: th.length ? th : hosts.filter((h) => h !== '*') });
      else report(o, `spec.tls[${i}].secretName: not set (the default certificate is served)`);
    });
    for (const h of hosts) {
      if (bool(a[`${NGINX}force-ssl-redirect`], false)) forceSsl.add(h);
      if (!bool(a[`${NGINX}ssl-redirect`], true)) noSslRedirect.add(h);
    }
    if (o.spec?.defaultBackend) {
      const d = destOf(o, o.spec.defaultBackend, 'spec.defaultBackend');
      for (const h of [...hosts, '*']) if (!defaults.has(h)) defaults.set(h, d);
    }
    (o.spec?.rules ?? []).forEach((r: any, i: number) => {
      const host = String(r.host ?? '').toLowerCase() || '*';
      (r.http?.paths ?? []).forEach((hp: any, j: number) => {
        const p = `spec.rules[${i}].http.paths[${j}]`;
        const path = String(hp.path ?? '/') || '/';
        const e: PathEntry = { host, path, pathType: hp.pathType ?? 'ImplementationSpecific', ingress: o, src: `Ingress ${idOf(o)} ${p}`, dest: destOf(o, hp.backend, `${p}.backend`), order: order++ };
        if (useRegex) {
          try {
            e.regex = new RegExp(`^(?:${path})`, 'i');
          } catch (err) {
            report(o, `${p}.path: not a valid regular expression for ${NGINX}${rewrite !== undefined ? 'rewrite-target' : 'use-regex'}: ${(err as Error).message}`);
            return;
          }
          if (rewrite !== undefined) e.rewrite = rewrite;
        }
        entries.push(e);
      });
    });
  }

  // Canary Ingresses attach to the main path with the same host, path and pathType.
  for (const o of canaries) {
    const a = o.metadata.annotations ?? {};
    const total = Number(a[`${NGINX}canary-weight-total`] ?? 100);
    const weight = Number(a[`${NGINX}canary-weight`] ?? 0);
    if (!Number.isInteger(total) || total <= 0) { report(o, `metadata.annotations.${NGINX}canary-weight-total: must be a positive integer`); continue; }
    if (!Number.isInteger(weight) || weight < 0 || weight > total) { report(o, `metadata.annotations.${NGINX}canary-weight: must be an integer between 0 and ${total}`); continue; }
    const header = a[`${NGINX}canary-by-header`]?.toLowerCase();
    const headerValue = a[`${NGINX}canary-by-header-value`];
    (o.spec?.rules ?? []).forEach((r: any, i: number) => {
      const host = String(r.host ?? '').toLowerCase() || '*';
      (r.http?.paths ?? []).forEach((hp: any, j: number) => {
        const p = `spec.rules[${i}].http.paths[${j}]`;
        const path = String(hp.path ?? '/') || '/';
        const main = entries.find((e) => e.host === host && e.path === path && e.pathType === (hp.pathType ?? 'ImplementationSpecific') && !e.canary);
        if (!main) return void report(o, `${p}: canary without a main Ingress for host ${host} path ${path} (ignored)`);
        main.canary = { weight, total, ...(header ? { header } : {}), ...(headerValue !== undefined ? { headerValue } : {}), dest: destOf(o, hp.backend, `${p}.backend`) };
      });
    });
  }

  // Precedence within a host: longest path, Exact before Prefix, then the oldest Ingress (input order).
  entries.sort((x, y) => y.path.length - x.path.length || Number(y.pathType === 'Exact') - Number(x.pathType === 'Exact') || x.order - y.order);
  const ports = new Map<number, Map<string, VirtualHost>>([[httpPort, new Map()], [httpsPort, new Map()]]);
  const hosts = new Set<string>(['*', ...entries.map((e) => e.host), ...defaults.keys()]);
  for (const host of hosts) {
    const hostEntries = entries.filter((e) => e.host === host);
    const routes = hostEntries.flatMap(routesOf);
    const dflt = defaults.get(host) ?? defaults.get('*');
    if (dflt) routes.push(Object.freeze({ name: 'default-backend', source: `defaultBackend for ${host}`, matches: [], action: single(dflt), requestOps: NO_OPS, responseOps: NO_OPS }));
    const wild = host.startsWith('*.') ? wildcardOneLabel(host) : undefined;
    const guarded = wild ? routes.map((rt) => (rt.name === 'default-backend' ? rt : guard(rt, wild))) : routes;
    const domains = host === '*' ? ['*'] : [host];
    ports.get(httpsPort)!.set(domains[0], Object.freeze({ name: `${host}:${httpsPort}`, domains, routes: Object.freeze(guarded) }));
    const redirect = host !== '*' && (forceSsl.has(host) || (tlsHosts.has(host) && !noSslRedirect.has(host)));
    const plain = redirect ? guarded.map((rt) => toHttps(rt, input.redirectPort ?? httpsPort)) : guarded;
    ports.get(httpPort)!.set(domains[0], Object.freeze({ name: `${host}:${httpPort}`, domains, routes: Object.freeze(plain) }));
  }
  return { ports, clusters, tls, problems };
}

function single(d: RouteDestination): RouteAction {
  return Object.freeze({ kind: 'route' as const, destinations: [d], pick: () => d });
}

/** Routes of one path: by-header canary routes first, then the (weighted) path route. */
function routesOf(e: PathEntry): Route[] {
  const path = pathTest(e);
  const m = (name: string, test: (r: RequestView) => boolean, prefix?: string): CompiledMatch =>
    Object.freeze({ name, test, ...(prefix !== undefined ? { prefix } : {}) });
  const base = { source: e.src, requestOps: NO_OPS, responseOps: NO_OPS, ...(e.rewrite !== undefined ? { rewrite: rewriteOf(e) } : {}) };
  const name = `${idOf(e.ingress)}:${e.host}${e.path}`;
  const out: Route[] = [];
  const c = e.canary;
  if (c?.header) {
    const h = c.header;
    const val = (r: RequestView) => { for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i] === h) return r.headers[i + 1]; return undefined; };
    const toCanary = c.headerValue !== undefined ? (v?: string) => v === c.headerValue : (v?: string) => v === 'always';
    out.push(Object.freeze({ ...base, name: `${name}:canary-by-header`, matches: [m('canary', (r) => path(r) && toCanary(val(r)))], action: single(c.dest) }));
    if (c.headerValue === undefined) out.push(Object.freeze({ ...base, name: `${name}:never`, matches: [m('never', (r) => path(r) && val(r) === 'never')], action: single(e.dest) }));
  }
  let action: RouteAction = single(e.dest);
  if (c && c.weight > 0) {
    const ds = Object.freeze([{ ...e.dest, weight: c.total - c.weight }, { ...c.dest, weight: c.weight }].map((d) => Object.freeze(d)));
    action = Object.freeze({ kind: 'route' as const, destinations: ds, pick: smoothWeighted(ds) });
  }
  out.push(Object.freeze({ ...base, name, matches: [m('', path)], action }));
  return out;
}

function pathTest(e: PathEntry): (r: RequestView) => boolean {
  if (e.regex) { const re = e.regex; return (r) => re.test(pathOnly(r.path)); }
  if (e.pathType === 'Exact') { const v = e.path; return (r) => pathOnly(r.path) === v; }
  const v = e.path.replace(/\/+$/, '');
  return (r) => prefixMatches(v, pathOnly(r.path));
}

/** rewrite-target: nginx replaces the whole URI when the path regex matches (query kept). */
function rewriteOf(e: PathEntry) {
  return Object.freeze({ regex: { re: new RegExp(`^(?:${e.path}).*$`, 'is'), substitution: e.rewrite! } });
}

function guard(rt: Route, host: (r: RequestView) => boolean): Route {
  const matches = rt.matches.length === 0 ? [Object.freeze({ name: '', test: host })] : rt.matches.map((m) => Object.freeze({ ...m, test: (r: RequestView) => host(r) && m.test(r) }));
  return Object.freeze({ ...rt, matches });
}

function toHttps(rt: Route, port: number): Route {
  return Object.freeze({ ...rt, action: Object.freeze({ kind: 'redirect' as const, redirect: Object.freeze({ scheme: 'https', code: 308, ...(port !== 443 ? { port } : {}) }) }) });
}
