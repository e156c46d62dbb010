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

type Cond = { what: string; test: (r: RequestView) => boolean; value: (r: RequestView) => string | undefined };

const show = (v: string | undefined) => (v === undefined ? 'absent' : JSON.stringify(v));

/** Compiles one HTTPMatchRequest. `explain` (for `/explain`) runs the same predicates one by one and names
 * the first that fails, with the request's value. */
export function compileMatch(m: any, path: string, errors: string[]): CompiledMatch {
  const conds: Cond[] = [];
  const ic = m.ignoreUriCase === true;
  let prefix: string | undefined;
  if (m.uri) {
    const t = compileStringMatch(m.uri, `${path}.uri`, errors, ic && m.uri.regex === undefined);
    if (m.uri.prefix !== undefined) prefix = String(m.uri.prefix);
    conds.push({ what: `uri ${JSON.stringify(m.uri)}${ic ? ' (ignoreUriCase)' : ''}`, test: (r) => t(pathOnly(r.path)), value: (r) => pathOnly(r.path) });
  }
  for (const [field, pick] of [['scheme', (r: RequestView) => r.scheme], ['method', (r: RequestView) => r.method], ['authority', (r: RequestView) => r.authority]] as const) {
    if (!m[field]) continue;
    const t = compileStringMatch(m[field], `${path}.${field}`, errors);
    conds.push({ what: `${field} ${JSON.stringify(m[field])}`, test: (r) => t(pick(r)), value: pick });
  }
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const name = k.toLowerCase();
    const t = compileStringMatch(v, `${path}.headers.${k}`, errors);
    conds.push({ what: `header ${name} ${JSON.stringify(v)}`, test: (r) => t(header(r, name)), value: (r) => header(r, name) });
  }
  for (const [k, v] of Object.entries(m.withoutHeaders ?? {})) {
    const name = k.toLowerCase();
    const t = compileStringMatch(v, `${path}.withoutHeaders.${k}`, errors);
    conds.push({ what: `withoutHeaders ${name} ${JSON.stringify(v)}`, test: (r) => !t(header(r, name)), value: (r) => header(r, name) });
  }
  for (const [k, v] of Object.entries(m.queryParams ?? {})) {
    // Istio: an empty exact value matches presence of the parameter.
    const vm: any = v && (v as any).exact === '' ? {} : v;
    const t = compileStringMatch(vm, `${path}.queryParams.${k}`, errors);
    conds.push({ what: `queryParam ${k} ${JSON.stringify(v)}`, test: (r) => t(query(r, k)), value: (r) => query(r, k) });
  }
  if (m.port !== undefined) {
    const port = Number(m.port);
    conds.push({ what: `port ${port}`, test: (r) => r.port === port, value: (r) => String(r.port) });
  }
  if (m.sourceLabels && Object.keys(m.sourceLabels).length > 0) {
    const want = Object.entries(m.sourceLabels as Record<string, string>);
    conds.push({ what: `sourceLabels ${JSON.stringify(m.sourceLabels)}`, test: (r) => want.every(([k, v]) => r.sourceLabels[k] === v), value: (r) => JSON.stringify(r.sourceLabels) });
  }
  if (m.sourceNamespace) {
    const ns = String(m.sourceNamespace);
    conds.push({ what: `sourceNamespace ${JSON.stringify(ns)}`, test: (r) => r.sourceNamespace === ns, value: (r) => r.sourceNamespace });
  }
  const tests = conds.map((c) => c.test);
  const test = tests.length === 0 ? () => true : tests.length === 1 ? tests[0] : (r: RequestView) => tests.every((t) => t(r));
  const explain = (r: RequestView): string | null => {
    for (const c of conds) if (!c.test(r)) return `${c.what} does not match (request: ${show(c.value(r))})`;
    return null;
  };
  const summary = conds.map((c) => c.what).join(' && ') || 'any';
  return Object.freeze({ name: m.name ?? '', test, explain, summary, ...(prefix !== undefined ? { prefix } : {}) });
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

/** Why each route of `vh` did or did not take `r`, in order, up to the one findRoute picks (the same
 * predicates; the first failing condition of each match block). For `/explain`. */
export interface RouteVerdict {
  route: Route;
  matched: boolean;
  /** The match block that held (index into route.matches), -1 for a route without matches. */
  matchIndex?: number;
  /** Per match block, the first condition that failed (when not matched). */
  reasons: string[];
}

/** Every route up to and including the chosen one, with the reasons the earlier ones did not match. */
export function explainRoutes(vh: VirtualHost, r: RequestView): RouteVerdict[] {
  const out: RouteVerdict[] = [];
  const chosen = findRoute(vh, r);
  for (const route of vh.routes) {
    if (chosen && route === chosen.route) {
      out.push({ route, matched: true, matchIndex: chosen.match ? route.matches.indexOf(chosen.match) : -1, reasons: [] });
      break;
    }
    out.push({ route, matched: false, reasons: route.matches.map((m, i) => `match[${i}]${m.name ? ` (${m.name})` : ''}: ${m.explain?.(r) ?? 'does not match'}`) });
  }
  return out;
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
