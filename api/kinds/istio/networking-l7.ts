// The layer-7 checks networking.ts does not make yet (issue 14, "Bad input"), as pure functions returning
// FieldErrors with paths, to be called from the VirtualService and DestinationRule `semantic` hooks in
// networking.ts (one line each) and, for the cross-object check, from `shoal analyze` and admission:
//   - regexes (uri, scheme, method, authority, headers, queryParams, withoutHeaders, uriRegexRewrite.match)
//     must compile with RE2's syntax (Envoy's safe_regex): no lookaround, backreferences or possessive
//     quantifiers;
//   - a StringMatch under headers/queryParams/withoutHeaders sets at most one of exact, prefix, regex;
//   - conflicting fields: rewrite.uri with rewrite.uriRegexRewrite; redirect.port with redirect.derivePort;
//     one header both in `headers` and `withoutHeaders` of a match;
//   - durations not checked elsewhere: connectionPool.tcp.idleTimeout/maxConnectionDuration,
//     tcpKeepalive.time/interval, consistentHash.httpCookie.ttl, corsPolicy.maxAge;
//   - consistentHash: exactly one hash key; ringHash and maglev not both; maglev.tableSize prime;
//   - retries.retryOn: Envoy's conditions or status codes (./retry-on.ts); fault.abort.grpcStatus a code name;
//   - a destination subset must be defined by a DestinationRule for its host (`unknownSubsets`).
import { type FieldError, Path, asArr, fieldError } from '../common.js';
import { checkDuration } from './networking.js';
import { parseRetryOn } from './retry-on.js';

const RE2_UNSUPPORTED: [RegExp, string][] = [
  [/\(\?[=!]/, 'lookahead is not supported by RE2'],
  [/\(\?<[=!]/, 'lookbehind is not supported by RE2'],
  [/\\[1-9]/, 'backreferences are not supported by RE2'],
  [/\\k</, 'named backreferences are not supported by RE2'],
  [/[*+?}][+]/, 'possessive quantifiers are not supported by RE2'],
];

/** Why `pattern` is not a valid RE2 expression, or null. */
export function re2Problem(pattern: string): string | null {
  const scan = pattern.replace(/\\\\/g, '');
  for (const [re, why] of RE2_UNSUPPORTED) if (re.test(scan)) return why;
  try {
    new RegExp(pattern.replace(/\(\?P</g, '(?<'));
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '');
  }
}

function checkRegex(errs: FieldError[], p: Path, v: unknown): void {
  if (typeof v !== 'string') return;
  const why = re2Problem(v);
  if (why) errs.push(fieldError.invalid(p, v, `invalid regex: ${why}`));
}

function checkStringMatch(errs: FieldError[], p: Path, m: any, oneRequired: boolean): void {
  if (!m || typeof m !== 'object') return;
  const set = ['exact', 'prefix', 'regex'].filter((k) => m[k] !== undefined);
  // The uri/scheme/method/authority "exactly one" is already in networking.ts; here: at most one.
  if (set.length > 1 || (oneRequired && set.length === 0)) errs.push(fieldError.invalid(p, set.join(','), 'only one of exact, prefix or regex may be set'));
  checkRegex(errs, p.child('regex'), m.regex);
}

/** VirtualService checks networking.ts lacks. */
export function validateVirtualServiceL7(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  asArr(o?.spec?.http).forEach((r: any, i: number) => {
    const rp = p.child('http').index(i);
    asArr(r.match).forEach((m: any, j: number) => {
      const mp = rp.child('match').index(j);
      for (const k of ['uri', 'scheme', 'method', 'authority']) if (m[k]) checkRegex(errs, mp.child(k, 'regex'), m[k].regex);
      for (const k of ['headers', 'queryParams', 'withoutHeaders'])
        for (const [name, sm] of Object.entries(m[k] ?? {})) checkStringMatch(errs, mp.child(k).key(name), sm, false);
      for (const name of Object.keys(m.withoutHeaders ?? {}))
        if (m.headers && Object.prototype.hasOwnProperty.call(m.headers, name))
          errs.push(fieldError.invalid(mp.child('withoutHeaders').key(name), name, 'header is also in headers of the same match: the match can never hold'));
    });
    const rw = r.rewrite;
    if (rw?.uri !== undefined && rw.uriRegexRewrite) errs.push(fieldError.invalid(rp.child('rewrite'), 'uri,uriRegexRewrite', 'uri and uriRegexRewrite may not both be set'));
    if (rw?.uriRegexRewrite) checkRegex(errs, rp.child('rewrite', 'uriRegexRewrite', 'match'), rw.uriRegexRewrite.match);
    if (r.redirect?.port !== undefined && r.redirect?.derivePort !== undefined)
      errs.push(fieldError.invalid(rp.child('redirect', 'derivePort'), r.redirect.derivePort, 'port and derivePort may not both be set'));
    if (r.corsPolicy) checkDuration(errs, rp.child('corsPolicy', 'maxAge'), r.corsPolicy.maxAge, 0);
    checkResilience(errs, rp, r);
  });
  return errs;
}

/** retries.retryOn conditions; fault.abort.grpcStatus names; a perTryTimeout of 0. */
function checkResilience(errs: FieldError[], rp: Path, r: any): void {
  if (typeof r.retries?.retryOn === 'string' && r.retries.retryOn !== '') {
    const { error } = parseRetryOn(r.retries.retryOn);
    if (error) errs.push(fieldError.invalid(rp.child('retries', 'retryOn'), r.retries.retryOn, error));
  }
  const gs = r.fault?.abort?.grpcStatus;
  if (gs !== undefined && !GRPC_CODES.includes(String(gs))) errs.push(fieldError.invalid(rp.child('fault', 'abort', 'grpcStatus'), gs, `must be a gRPC status name (${GRPC_CODES.slice(0, 3).join(', ')}, …)`));
}

/** gRPC status names, by code. */
export const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let i = 2; i * i <= n; i++) if (n % i === 0) return false;
  return true;
}

function checkPolicy(errs: FieldError[], p: Path, tp: any): void {
  if (!tp) return;
  const tcp = tp.connectionPool?.tcp;
  if (tcp) {
    for (const f of ['idleTimeout', 'maxConnectionDuration']) checkDuration(errs, p.child('connectionPool', 'tcp', f), tcp[f]);
    for (const f of ['time', 'interval']) checkDuration(errs, p.child('connectionPool', 'tcp', 'tcpKeepalive', f), tcp.tcpKeepalive?.[f]);
  }
  const ch = tp.loadBalancer?.consistentHash;
  if (ch) {
    const cp = p.child('loadBalancer', 'consistentHash');
    const keys = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].filter((k) => ch[k] !== undefined && ch[k] !== false && ch[k] !== '');
    if (keys.length !== 1) errs.push(fieldError.invalid(cp, keys.join(','), 'exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName must be set'));
    if (ch.httpCookie) checkDuration(errs, cp.child('httpCookie', 'ttl'), ch.httpCookie.ttl, 0);
    if (ch.ringHash && ch.maglev) errs.push(fieldError.invalid(cp, 'ringHash,maglev', 'only one of ringHash or maglev may be set'));
    if (ch.maglev?.tableSize !== undefined && !isPrime(ch.maglev.tableSize)) errs.push(fieldError.invalid(cp.child('maglev', 'tableSize'), ch.maglev.tableSize, 'must be a prime number'));
  }
  asArr(tp.portLevelSettings).forEach((pl: any, i: number) => checkPolicy(errs, p.child('portLevelSettings').index(i), pl));
}

/** DestinationRule checks networking.ts lacks. */
export function validateDestinationRuleL7(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  checkPolicy(errs, p.child('trafficPolicy'), o?.spec?.trafficPolicy);
  asArr(o?.spec?.subsets).forEach((s: any, i: number) => checkPolicy(errs, p.child('subsets').index(i).child('trafficPolicy'), s.trafficPolicy));
  return errs;
}

/** Istio's short-name resolution: only a name without dots is expanded. */
function fqdn(host: string, ns: string, domain: string): string {
  const h = String(host).toLowerCase();
  return h.includes('.') || h.includes('*') ? h : `${h}.${ns}.svc.${domain}`;
}

/** Destinations of `vs` naming a subset no DestinationRule (in `destinationRules`) defines for that host. */
export function unknownSubsets(vs: any, destinationRules: readonly any[], domain = 'cluster.local'): FieldError[] {
  const ns = vs?.metadata?.namespace ?? 'default';
  const subsets = new Map<string, Set<string>>();
  for (const dr of destinationRules) {
    const h = fqdn(dr?.spec?.host ?? '', dr?.metadata?.namespace ?? 'default', domain);
    const set = subsets.get(h) ?? new Set<string>();
    for (const s of asArr(dr?.spec?.subsets)) set.add(s.name);
    subsets.set(h, set);
  }
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  for (const kind of ['http', 'tcp', 'tls'])
    asArr(vs?.spec?.[kind]).forEach((r: any, i: number) => {
      const check = (d: any, dp: Path) => {
        const subset = d?.subset;
        if (!subset) return;
        const h = fqdn(d.host ?? '', ns, domain);
        if (!subsets.get(h)?.has(subset)) errs.push(fieldError.invalid(dp.child('subset'), subset, `subset not found: no DestinationRule for host ${h} defines it`));
      };
      asArr(r.route).forEach((d: any, j: number) => check(d.destination, p.child(kind).index(i).child('route').index(j).child('destination')));
      if (kind === 'http' && r.mirror) check(r.mirror, p.child(kind).index(i).child('mirror'));
    });
  return errs;
}
