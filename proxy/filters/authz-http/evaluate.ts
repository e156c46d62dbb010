// AuthorizationPolicy for HTTP requests, in Istio's order (AUDIT logs, any matching DENY denies, no ALLOW
// policy allows, else one ALLOW must match), over the same policy types and string matching as the
// layer-4 evaluator (../../authz/evaluate.ts, imported, not copied) plus the HTTP fields: hosts (case-
// insensitive, with or without the port), methods, paths (Istio's exact, `prefix*`, `*suffix`, `*`,
// matched on the path without query string), and `when` on `request.headers[name]`. Request principals
// (JWT) are not available here, so a rule that requires one never matches.
import { principalOf, stringMatch, type ConnectionAttributes, type Decision } from '../../authz/evaluate.js';
import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource } from '../../config/types.js';
import { CidrSet } from '../../net/cidr.js';

export { principalOf };

/** What an HTTP request offers to authorization: its connection's attributes and the request's. */
export interface HttpAttributes extends ConnectionAttributes {
  method: string;
  /** Host / :authority. */
  host: string;
  /** Path with query (the query is stripped for matching). */
  path: string;
  /** Flat, names lowercased. */
  headers: readonly string[];
  /** The verified JWT (jwt-authn), if any. */
  auth?: { principal: string; claims: Record<string, any>; audiences: string[]; presenter: string };
}

type M = (a: HttpAttributes) => boolean;

const stripSpiffe = (s: string) => (s.startsWith('spiffe://') ? s.slice(9) : s);
const all = (ms: M[]): M => (ms.length === 0 ? () => true : (a) => ms.every((m) => m(a)));

function anyOf(ps: string[] | undefined, pick: (a: HttpAttributes) => string | string[], negate = false): M[] {
  if (!ps || ps.length === 0) return [];
  const m: M = (a) => {
    const v = pick(a);
    return Array.isArray(v) ? v.some((x) => ps.some((p) => stringMatch(p, x))) : ps.some((p) => stringMatch(p, v));
  };
  return [negate ? (a) => !m(a) : m];
}
function cidrs(bs: string[] | undefined, pick: (a: HttpAttributes) => string, negate: boolean): M[] {
  if (!bs || bs.length === 0) return [];
  const set = new CidrSet(bs);
  return [negate ? (a) => !set.has(pick(a)) : (a) => set.has(pick(a))];
}
const pathOf = (a: HttpAttributes) => { const q = a.path.indexOf('?'); return q === -1 ? a.path : a.path.slice(0, q); };
const hostsOf = (a: HttpAttributes) => { const h = a.host.toLowerCase(); const c = h.lastIndexOf(':'); return c > 0 && !h.endsWith(']') ? [h, h.slice(0, c)] : [h]; };
const lower = (l?: string[]) => l?.map((x) => x.toLowerCase());
const reqPrincipal = (a: HttpAttributes): string | string[] => (a.auth ? a.auth.principal : []);
/** `request.auth.claims[a][b]` → the claim's values (a list claim gives each item; a string claim, itself). */
function claimValues(a: HttpAttributes, path: string[]): string[] {
  let v: any = a.auth?.claims;
  for (const k of path) v = v?.[k];
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [typeof v === 'string' ? v : JSON.stringify(v)];
}
const sa = (a: HttpAttributes) => { const m = /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(a.principal); return m ? `${m[1]}/${m[2]}` : ''; };

function source(s: AuthzSource): M {
  const ms = [
    ...anyOf(s.principals?.map(stripSpiffe), (a) => a.principal), ...anyOf(s.notPrincipals?.map(stripSpiffe), (a) => a.principal, true),
    ...anyOf(s.serviceAccounts, sa), ...anyOf(s.notServiceAccounts, sa, true),
    ...anyOf(s.namespaces, (a) => a.namespace), ...anyOf(s.notNamespaces, (a) => a.namespace, true),
    ...cidrs(s.ipBlocks, (a) => a.sourceIp, false), ...cidrs(s.notIpBlocks, (a) => a.sourceIp, true),
    ...cidrs(s.remoteIpBlocks, (a) => a.remoteIp, false), ...cidrs(s.notRemoteIpBlocks, (a) => a.remoteIp, true),
    // The JWT's `iss/sub` (jwt-authn); without a token there is none, and `*` then does not match.
    ...anyOf(s.requestPrincipals, reqPrincipal), ...anyOf(s.notRequestPrincipals, reqPrincipal, true),
  ];
  return all(ms);
}

function operation(o: AuthzOperation): M {
  const ports = (l?: string[], neg = false): M[] => (l?.length ? [(a) => l.map(Number).includes(a.destinationPort) !== neg] : []);
  return all([
    ...anyOf(lower(o.hosts), hostsOf), ...anyOf(lower(o.notHosts), hostsOf, true),
    ...anyOf(o.methods, (a) => a.method), ...anyOf(o.notMethods, (a) => a.method, true),
    ...anyOf(o.paths, pathOf), ...anyOf(o.notPaths, pathOf, true),
    ...ports(o.ports), ...ports(o.notPorts, true),
  ]);
}

function condition(c: AuthzCondition): M {
  const h = /^request\.headers\[(.+)\]$/.exec(c.key);
  let pick: ((a: HttpAttributes) => string) | undefined;
  if (h) {
    const name = h[1].toLowerCase();
    pick = (a) => { for (let i = 0; i < a.headers.length; i += 2) if (a.headers[i] === name) return a.headers[i + 1]; return ''; };
  } else {
    const ips: Record<string, (a: HttpAttributes) => string> = { 'source.ip': (a) => a.sourceIp, 'remote.ip': (a) => a.remoteIp, 'destination.ip': (a) => a.destinationIp };
    if (ips[c.key]) return all([...cidrs(c.values, ips[c.key], false), ...cidrs(c.notValues, ips[c.key], true)]);
    const strs: Record<string, (a: HttpAttributes) => string> = {
      'source.namespace': (a) => a.namespace, 'source.principal': (a) => a.principal, 'destination.port': (a) => String(a.destinationPort),
      'connection.sni': (a) => a.sni ?? '',
    };
    const claim = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(c.key);
    const auth: Record<string, (a: HttpAttributes) => string[]> = {
      'request.auth.principal': (a) => (a.auth ? [a.auth.principal] : []), 'request.auth.audiences': (a) => a.auth?.audiences ?? [],
      'request.auth.presenter': (a) => (a.auth?.presenter ? [a.auth.presenter] : []),
    };
    const multi = claim ? (a: HttpAttributes) => claimValues(a, [...claim[1].matchAll(/\[([^\]]+)\]/g)].map((m) => m[1])) : auth[c.key];
    if (multi) return all([...anyOf(c.values, multi), ...anyOf(c.notValues, multi, true)]);
    // other keys need what this proxy does not have: never satisfied.
    pick = strs[c.key] ?? (() => '\u0000');
    if (!strs[c.key]) return () => false;
  }
  const strip = c.key === 'source.principal';
  const vs = strip ? c.values?.map(stripSpiffe) : c.values, nvs = strip ? c.notValues?.map(stripSpiffe) : c.notValues;
  return all([...anyOf(vs, pick!), ...anyOf(nvs, pick!, true)]);
}

function rule(r: AuthzRule): M {
  const from = (r.from ?? []).map((f) => source(f.source ?? {}));
  const to = (r.to ?? []).map((t) => operation(t.operation ?? {}));
  const when = (r.when ?? []).map(condition);
  return (a) => (from.length === 0 || from.some((m) => m(a))) && (to.length === 0 || to.some((m) => m(a))) && when.every((m) => m(a));
}

interface Compiled { id: string; action: string; match: M }

/** Compiled, frozen HTTP authorization for one workload's policies. */
export class HttpAuthorizer {
  private readonly audit: Compiled[];
  private readonly deny: Compiled[];
  private readonly allow: Compiled[];

  constructor(policies: readonly AuthzPolicy[]) {
    const c = policies.map((p): Compiled => {
      const rules = (p.rules ?? []).map(rule);
      return { id: `${p.namespace}/${p.name}`, action: p.action || 'ALLOW', match: (a) => rules.some((m) => m(a)) };
    });
    this.audit = c.filter((p) => p.action === 'AUDIT');
    this.deny = c.filter((p) => p.action === 'DENY');
    this.allow = c.filter((p) => p.action === 'ALLOW');
    Object.freeze(this);
  }

  evaluate(a: HttpAttributes): Decision {
    const audit = this.audit.filter((p) => p.match(a)).map((p) => p.id);
    for (const p of this.deny) if (p.match(a)) return { allow: false, reason: `denied by DENY policy ${p.id}`, audit };
    if (this.allow.length === 0) return { allow: true, reason: 'no ALLOW policy', audit };
    for (const p of this.allow) if (p.match(a)) return { allow: true, reason: `allowed by ${p.id}`, audit };
    return { allow: false, reason: 'no ALLOW policy matched', audit };
  }
}
