// AuthorizationPolicy evaluation for layer 4, in Istio's order: AUDIT policies only log; any matching
// DENY policy denies; with no ALLOW policy everything else is allowed, otherwise one ALLOW policy must
// match. Policies are compiled once per config (CIDRs parsed, TCP semantics applied) into a frozen
// evaluator; a connection's attributes are a cheap plain object.
//
// HTTP-only fields on TCP, as Istio documents it (concepts/security "Using Istio authorization on plain
// TCP protocols" and tasks/security/authorization/authz-tcp): the fields are ignored. In an ALLOW policy a
// rule naming any HTTP-only field can never be satisfied by a TCP connection, so the rule is dropped (it
// never matches, and with no other ALLOW match the connection is denied); in DENY and AUDIT policies the
// HTTP-only fields are removed and the rest of the rule still applies (the more restrictive reading).
// HTTP-only: source.requestPrincipals/notRequestPrincipals, operation hosts/notHosts/methods/notMethods/
// paths/notPaths, and `when` keys other than the TCP ones below.
import { CidrSet } from '../net/cidr.js';
import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource } from '../config/types.js';

/** `when` keys a TCP connection has (Istio's conditions page, "supported protocols: HTTP, TCP"). */
export const TCP_CONDITION_KEYS = new Set([
  'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port', 'connection.sni',
]);

/** What layer 4 knows about a connection. */
export interface ConnectionAttributes {
  /** Peer identity without `spiffe://` ('' when not mTLS). */
  principal: string;
  /** Peer namespace from its identity ('' when not mTLS). */
  namespace: string;
  /** The peer's address (for HBONE the source pod IP). */
  sourceIp: string;
  /** Same as sourceIp on TCP (no X-Forwarded-For). */
  remoteIp: string;
  destinationIp: string;
  destinationPort: number;
  sni?: string;
}

/** The verdict for one connection. */
export interface Decision {
  allow: boolean;
  /** Why: `denied by DENY policy ns/name`, `no ALLOW policy matched`, `allowed by ns/name`, `no ALLOW policy`. */
  reason: string;
  /** AUDIT policies that matched (`ns/name`). */
  audit: string[];
}

type Matcher = (a: ConnectionAttributes) => boolean;

/** Istio string match: `*` = any non-empty, `*x` suffix, `x*` prefix, else exact. */
export function stringMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return value !== '';
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

const stripSpiffe = (s: string): string => (s.startsWith('spiffe://') ? s.slice(9) : s);

function anyString(patterns: string[] | undefined, pick: (a: ConnectionAttributes) => string, strip = false): Matcher[] {
  if (!patterns || patterns.length === 0) return [];
  const ps = strip ? patterns.map(stripSpiffe) : patterns;
  return [(a) => { const v = pick(a); return ps.some((p) => stringMatch(p, v)); }];
}
function noneString(patterns: string[] | undefined, pick: (a: ConnectionAttributes) => string, strip = false): Matcher[] {
  if (!patterns || patterns.length === 0) return [];
  const ps = strip ? patterns.map(stripSpiffe) : patterns;
  return [(a) => { const v = pick(a); return !ps.some((p) => stringMatch(p, v)); }];
}
function inCidrs(blocks: string[] | undefined, pick: (a: ConnectionAttributes) => string, negate: boolean): Matcher[] {
  if (!blocks || blocks.length === 0) return [];
  const set = new CidrSet(blocks);
  return [negate ? (a) => !set.has(pick(a)) : (a) => set.has(pick(a))];
}
function inPorts(ports: string[] | undefined, negate: boolean): Matcher[] {
  if (!ports || ports.length === 0) return [];
  const set = new Set(ports.map(Number));
  return [negate ? (a) => !set.has(a.destinationPort) : (a) => set.has(a.destinationPort)];
}
const all = (ms: Matcher[]): Matcher => (ms.length === 0 ? () => true : (a) => ms.every((m) => m(a)));

function sourceHasHttp(s: AuthzSource): boolean {
  return !!(s.requestPrincipals?.length || s.notRequestPrincipals?.length);
}
function operationHasHttp(o: AuthzOperation): boolean {
  return !!(o.hosts?.length || o.notHosts?.length || o.methods?.length || o.notMethods?.length || o.paths?.length || o.notPaths?.length);
}
function conditionIsHttp(c: AuthzCondition): boolean {
  return !TCP_CONDITION_KEYS.has(c.key);
}
/** True when the rule names a field a TCP connection does not have. */
export function ruleHasHttpFields(r: AuthzRule): boolean {
  return (r.from ?? []).some((f) => sourceHasHttp(f.source ?? {})) ||
    (r.to ?? []).some((t) => operationHasHttp(t.operation ?? {})) ||
    (r.when ?? []).some(conditionIsHttp);
}

/** `ns/sa` of the peer, from its principal `td/ns/<ns>/sa/<sa>` ('' when not a SPIFFE workload identity). */
function serviceAccountOf(a: ConnectionAttributes): string {
  const m = /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(a.principal);
  return m ? `${m[1]}/${m[2]}` : '';
}

function compileSource(s: AuthzSource): Matcher {
  return all([
    ...anyString(s.principals, (a) => a.principal, true),
    ...noneString(s.notPrincipals, (a) => a.principal, true),
    ...anyString(s.serviceAccounts, serviceAccountOf),
    ...noneString(s.notServiceAccounts, serviceAccountOf),
    ...anyString(s.namespaces, (a) => a.namespace),
    ...noneString(s.notNamespaces, (a) => a.namespace),
    ...inCidrs(s.ipBlocks, (a) => a.sourceIp, false),
    ...inCidrs(s.notIpBlocks, (a) => a.sourceIp, true),
    ...inCidrs(s.remoteIpBlocks, (a) => a.remoteIp, false),
    ...inCidrs(s.notRemoteIpBlocks, (a) => a.remoteIp, true),
  ]);
}
function compileOperation(o: AuthzOperation): Matcher {
  return all([...inPorts(o.ports, false), ...inPorts(o.notPorts, true)]);
}
function compileCondition(c: AuthzCondition): Matcher {
  const pickers: Record<string, (a: ConnectionAttributes) => string> = {
    'source.namespace': (a) => a.namespace,
    'source.principal': (a) => a.principal,
    'destination.port': (a) => String(a.destinationPort),
    'connection.sni': (a) => a.sni ?? '',
  };
  const ips: Record<string, (a: ConnectionAttributes) => string> = {
    'source.ip': (a) => a.sourceIp, 'remote.ip': (a) => a.remoteIp, 'destination.ip': (a) => a.destinationIp,
  };
  if (ips[c.key]) return all([...inCidrs(c.values, ips[c.key], false), ...inCidrs(c.notValues, ips[c.key], true)]);
  const pick = pickers[c.key];
  const strip = c.key === 'source.principal';
  return all([...anyString(c.values, pick, strip), ...noneString(c.notValues, pick, strip)]);
}

/** A rule for TCP, or null when it can never match (ALLOW rule with HTTP-only fields). */
function compileRule(r: AuthzRule, action: string): Matcher | null {
  if (action === 'ALLOW' && ruleHasHttpFields(r)) return null;
  const from = (r.from ?? []).map((f) => compileSource(f.source ?? {}));
  const to = (r.to ?? []).map((t) => compileOperation(t.operation ?? {}));
  const when = (r.when ?? []).filter((c) => !conditionIsHttp(c)).map(compileCondition);
  return (a) => (from.length === 0 || from.some((m) => m(a))) &&
    (to.length === 0 || to.some((m) => m(a))) &&
    when.every((m) => m(a));
}

interface CompiledPolicy { id: string; action: string; match: Matcher }

function compilePolicy(p: AuthzPolicy): CompiledPolicy {
  const action = p.action || 'ALLOW';
  const rules = (p.rules ?? []).map((r) => compileRule(r, action)).filter((m): m is Matcher => m !== null);
  // No rules: the policy matches nothing (an ALLOW policy with no rules is "allow nothing").
  return { id: `${p.namespace}/${p.name}`, action, match: (a) => rules.some((m) => m(a)) };
}

/** The compiled, frozen policies of one config. */
export class Authorizer {
  private readonly audit: CompiledPolicy[];
  private readonly deny: CompiledPolicy[];
  private readonly allow: CompiledPolicy[];
  /** Policies by id, for the admin dump. */
  readonly policyIds: string[];

  constructor(policies: readonly AuthzPolicy[]) {
    const compiled = policies.map(compilePolicy);
    this.audit = compiled.filter((p) => p.action === 'AUDIT');
    this.deny = compiled.filter((p) => p.action === 'DENY');
    this.allow = compiled.filter((p) => p.action === 'ALLOW');
    this.policyIds = compiled.map((p) => p.id);
    Object.freeze(this);
  }

  /** The verdict for a connection, in Istio's order. */
  evaluate(a: ConnectionAttributes): Decision {
    const audit = this.audit.filter((p) => p.match(a)).map((p) => p.id);
    for (const p of this.deny) if (p.match(a)) return { allow: false, reason: `denied by DENY policy ${p.id}`, audit };
    if (this.allow.length === 0) return { allow: true, reason: 'no ALLOW policy', audit };
    for (const p of this.allow) if (p.match(a)) return { allow: true, reason: `allowed by ${p.id}`, audit };
    return { allow: false, reason: 'no ALLOW policy matched', audit };
  }
}

/** `spiffe://td/ns/<ns>/sa/<sa>` → `{principal: 'td/ns/<ns>/sa/<sa>', namespace}`; '' parts when not SPIFFE. */
export function principalOf(spiffe: string): { principal: string; namespace: string } {
  if (!spiffe.startsWith('spiffe://')) return { principal: '', namespace: '' };
  const principal = spiffe.slice(9);
  const m = /\/ns\/([^/]+)\/sa\/[^/]+$/.exec(principal);
  return { principal, namespace: m ? m[1] : '' };
}
