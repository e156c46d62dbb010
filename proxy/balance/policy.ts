// DestinationRule `trafficPolicy.loadBalancer` → a frozen LbPolicy, with Istio's precedence: the subset's
// port-level setting, the subset's policy, the host's port-level setting, the host's policy, and else
// Istio's default LEAST_REQUEST. LEAST_CONN is Istio's deprecated name for LEAST_REQUEST.
import { durationSeconds } from '../../api/kinds/istio/networking.js';

export type HashSource =
  | { by: 'header'; name: string }
  | { by: 'cookie'; name: string; path: string; ttlSeconds: number }
  | { by: 'sourceIp' }
  | { by: 'query'; name: string };

export type LbPolicy =
  | { kind: 'ROUND_ROBIN' }
  | { kind: 'LEAST_REQUEST' }
  | { kind: 'RANDOM' }
  | { kind: 'CONSISTENT_HASH'; source: HashSource; table: 'ring' | 'maglev'; size: number };

/** Istio's default when nothing is set. */
export const DEFAULT_LB: LbPolicy = Object.freeze({ kind: 'LEAST_REQUEST' });

/** Envoy's defaults: ring hash minimum 1024 entries, maglev table 65537 (prime). */
export const RING_MIN = 1024;
export const MAGLEV_SIZE = 65537;

/** Compiles Istio's LoadBalancerSettings; errors name the field under `path`. */
export function compileLb(lb: any, path: string, errors: string[]): LbPolicy | undefined {
  if (!lb) return undefined;
  if (lb.consistentHash) {
    const ch = lb.consistentHash;
    const p = `${path}.consistentHash`;
    const keys = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].filter((k) => ch[k] !== undefined && ch[k] !== false && ch[k] !== '');
    if (keys.length !== 1) {
      errors.push(`${p}: exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName must be set`);
      return undefined;
    }
    let source: HashSource;
    if (ch.httpHeaderName) source = { by: 'header', name: String(ch.httpHeaderName).toLowerCase() };
    else if (ch.httpCookie) {
      const ttl = ch.httpCookie.ttl;
      if (ttl !== undefined && !/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(ttl)) errors.push(`${p}.httpCookie.ttl: invalid duration ${JSON.stringify(ttl)}`);
      source = { by: 'cookie', name: String(ch.httpCookie.name), path: ch.httpCookie.path ?? '', ttlSeconds: ttl ? durationSeconds(ttl) : 0 };
    } else if (ch.useSourceIp) source = { by: 'sourceIp' };
    else source = { by: 'query', name: String(ch.httpQueryParameterName) };
    const maglev = ch.maglev !== undefined;
    const size = maglev ? Number(ch.maglev.tableSize ?? MAGLEV_SIZE) : Number(ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? RING_MIN);
    if (maglev && !isPrime(size)) errors.push(`${p}.maglev.tableSize: must be a prime number, got ${size}`);
    return Object.freeze({ kind: 'CONSISTENT_HASH', source: Object.freeze(source), table: maglev ? 'maglev' : 'ring', size });
  }
  switch (lb.simple ?? 'UNSPECIFIED') {
    case 'ROUND_ROBIN': return Object.freeze({ kind: 'ROUND_ROBIN' });
    case 'RANDOM': return Object.freeze({ kind: 'RANDOM' });
    case 'LEAST_REQUEST': case 'LEAST_CONN': case 'UNSPECIFIED': return DEFAULT_LB;
    default:
      errors.push(`${path}.simple: unsupported load balancer ${JSON.stringify(lb.simple)}`);
      return undefined;
  }
}

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let i = 2; i * i <= n; i++) if (n % i === 0) return false;
  return true;
}

/** The effective policy for `port` of `subset` (undefined subset = the host's default cluster). */
export function effectiveLb(trafficPolicy: any, subset: any, port: number, path: string, errors: string[]): LbPolicy {
  const levels: [any, string][] = [];
  const portLevel = (tp: any, p: string): [any, string] | undefined => {
    const i = (tp?.portLevelSettings ?? []).findIndex((s: any) => s.port?.number === port);
    return i === -1 ? undefined : [tp.portLevelSettings[i].loadBalancer, `${p}.portLevelSettings[${i}].loadBalancer`];
  };
  if (subset) {
    const sp = `${path}.subsets[${subset.index}].trafficPolicy`;
    const pl = portLevel(subset.trafficPolicy, sp);
    if (pl) levels.push(pl);
    levels.push([subset.trafficPolicy?.loadBalancer, `${sp}.loadBalancer`]);
  }
  const pl = portLevel(trafficPolicy, `${path}.trafficPolicy`);
  if (pl) levels.push(pl);
  levels.push([trafficPolicy?.loadBalancer, `${path}.trafficPolicy.loadBalancer`]);
  for (const [lb, p] of levels) {
    const c = compileLb(lb, p, errors);
    if (c) return c;
  }
  return DEFAULT_LB;
}
