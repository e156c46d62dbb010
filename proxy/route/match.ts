// The matcher: Istio's HTTPMatchRequest compiled into predicates (once per config), the lookup of a
// request's virtual host and first matching route, and the request a route forwards (rewrite) or the
// Location it redirects to. Semantics as Envoy applies Istio's translation: uri matches the path without
// its query string; `ignoreUriCase` applies to exact and prefix; regex is RE2's anchored full match;
// a header or query parameter matcher `{}` means "present"; withoutHeaders must all fail to match.
import { compileRe2 } from './regex.js';
import type { CompiledMatch, RequestView, Route, RouteTable, VirtualHost } from './types.js';

type Str = (v: string | undefined) => boolean;

/** Compiles an Istio StringMatch; `{}` (or undefined) is presence. Errors name `path`. */
export function compileStringMatch(m: any, path: string, errors: string[], ignoreCase = false): Str {
  const keys = m ? Object.keys(m).filter((k) => m[k] !== undefined) : [];
  if (keys.length === 0) return (v) => v !== undefined;
  if (keys.length > 1) errors.push(`${path}: exactly one of exact, prefix or regex must be set`);
  if (m.exact !== undefined) {
    const x = ignoreCase ? String(m.exact).toLowerCase() : String(m.exact);
    return ignoreCase ? (v) => v !== undefined && v.toLowerCase() === x : (v) => v === x;
  }
  if (m.prefix !== undefined) {
    const x = ignoreCase ? String(m.prefix).toLowerCase() : String(m.prefix);
    return ignoreCase ? (v) => v !== undefined && v.toLowerCase().startsWith(x) : (v) => v !== undefined && v.startsWith(x);
  }
  if (m.regex !== undefined) {
    const re = compileRe2(m.regex);
    if (typeof re === 'string') {
      errors.push(`${path}.regex: ${re}`);
      return () => false;
    }
    return (v) => v !== undefined && re.test(v);
  }
  errors.push(`${path}: unknown string match ${JSON.stringify(keys)}`);
  return () => false;
}

/** The path without query string. */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

function header(r: RequestView, name: string): string | undefined {
  const h = r.headers;
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
  return undefined;
}

function query(r: RequestView, name: string): string | undefined {
  const q = r.path.indexOf('?');
  if (q === -1) return undefined;
  return new URLSearchParams(r.path.slice(q + 1)).get(name) ?? undefined;
}

/** Compiles one HTTPMatchRequest. */
export function compileMatch(m: any, path: string, errors: string[]): CompiledMatch {
  const tests: ((r: RequestView) => boolean)[] = [];
  const ic = m.ignoreUriCase === true;
  let prefix: string | undefined;
  if (m.uri) {
    const t = compileStringMatch(m.uri, `${path}.uri`, errors, ic && m.uri.regex === undefined);
    if (m.uri.prefix !== undefined) prefix = String(m.uri.prefix);
    tests.push((r) => t(pathOnly(r.path)));
  }
  for (const [field, pick] of [['scheme', (r: RequestView) => r.scheme], ['method', (r: RequestView) => r.method], ['authority', (r: RequestView) => r.authority]] as const) {
    if (!m[field]) continue;
    const t = compileStringMatch(m[field], `${path}.${field}`, errors);
    tests.push((r) => t(pick(r)));
  }
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const name = k.toLowerCase();
    const t = compileStringMatch(v, `${path}.headers.${k}`, errors);
    tests.push((r) => t(header(r, name)));
  }
  for (const [k, v] of Object.entries(m.withoutHeaders ?? {})) {
    const name = k.toLowerCase();
    const t = compileStringMatch(v, `${path}.withoutHeaders.${k}`, errors);
    tests.push((r) => !t(header(r, name)));
  }
  for (const [k, v] of Object.entries(m.queryParams ?? {})) {
    // Istio: an empty exact value matches presence of the parameter.
    const vm: any = v && (v as any).exact === '' ? {} : v;
    const t = compileStringMatch(vm, `${path}.queryParams.${k}`, errors);
    tests.push((r) => t(query(r, k)));
  }
  if (m.port !== undefined) {
    const port = Number(m.port);
    tests.push((r) => r.port === port);
  }
  if (m.sourceLabels && Object.keys(m.sourceLabels).length > 0) {
    const want = Object.entries(m.sourceLabels as Record<string, string>);
    tests.push((r) => want.every(([k, v]) => r.sourceLabels[k] === v));
  }
  if (m.sourceNamespace) {
    const ns = String(m.sourceNamespace);
    tests.push((r) => r.sourceNamespace === ns);
  }
  const test = tests.length === 0 ? () => true : tests.length === 1 ? tests[0] : (r: RequestView) => tests.every((t) => t(r));
  return Object.freeze({ name: m.name ?? '', test, ...(prefix !== undefined ? { prefix } : {}) });
}

/** The virtual host for a request's authority on a destination port (authority with or without port). */
export function findVirtualHost(table: RouteTable, authority: string, port: number): VirtualHost | undefined {
  const byDomain = table.ports.get(port);
  if (!byDomain) return undefined;
  const a = authority.toLowerCase();
  const exact = byDomain.get(a) ?? byDomain.get(stripPort(a));
  if (exact) return exact;
  // Wildcard domains `*.suffix` (Ingress and Gateway hosts), the longest suffix first, as Envoy matches them.
  const h = stripPort(a);
  for (let i = h.indexOf('.'); i !== -1 && i < h.length - 1; i = h.indexOf('.', i + 1)) {
    const w = byDomain.get(`*${h.slice(i)}`);
    if (w) return w;
  }
  return byDomain.get('*');
}

function stripPort(a: string): string {
  if (a.startsWith('[')) return a.slice(0, a.indexOf(']') + 1);
  const c = a.lastIndexOf(':');
  return c === -1 ? a : a.slice(0, c);
}

/** The first route whose matches hold, and the match that held. */
export function findRoute(vh: VirtualHost, r: RequestView): { route: Route; match: CompiledMatch | null } | undefined {
  for (const route of vh.routes) {
    if (route.matches.length === 0) return { route, match: null };
    for (const m of route.matches) if (m.test(r)) return { route, match: m };
  }
  return undefined;
}

/** The path and authority after the route's rewrite (query string kept). */
export function rewritten(route: Route, match: CompiledMatch | null, r: RequestView): { path: string; authority: string } {
  const rw = route.rewrite;
  if (!rw) return { path: r.path, authority: r.authority };
  const p = pathOnly(r.path);
  const q = r.path.slice(p.length);
  let path = p;
  if (rw.regex) path = p.replace(rw.regex.re, rw.regex.substitution);
  else if (rw.uri !== undefined) {
    if (match?.prefix !== undefined) {
      const rest = p.slice(match.prefix.length);
      // Gateway API ReplacePrefixMatch: "/prefix/x" with "/" must not become "//x".
      path = match.segmentPrefix && rw.uri.endsWith('/') && rest.startsWith('/') ? rw.uri + rest.slice(1) : rw.uri + rest;
      if (path === '') path = '/';
    } else path = rw.uri;
  }
  return { path: path + q, authority: rw.authority ?? r.authority };
}

/** The Location of a redirect route. */
export function redirectLocation(route: Route, match: CompiledMatch | null, r: RequestView): string {
  if (route.action.kind !== 'redirect') throw new Error('not a redirect route');
  const d = route.action.redirect;
  const scheme = d.scheme ?? r.scheme;
  const reqHost = stripPort(r.authority);
  const reqPort = r.authority.length > reqHost.length ? r.authority.slice(reqHost.length + 1) : '';
  const host = d.authority ?? reqHost;
  let port = '';
  if (d.port !== undefined) port = String(d.port);
  else if (d.derivePort === 'FROM_REQUEST_PORT') port = reqPort || String(r.port);
  else if (d.derivePort !== 'FROM_PROTOCOL_DEFAULT' && d.authority === undefined && d.scheme === undefined) port = reqPort;
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = '';
  const p = pathOnly(r.path);
  let path = d.uri ?? p;
  if (d.prefixReplace !== undefined && match?.prefix !== undefined) path = d.prefixReplace + p.slice(match.prefix.length);
  return `${scheme}://${host}${port ? `:${port}` : ''}${path || '/'}${r.path.slice(p.length)}`;
}
