// The compiled route model: what mesh control (or a test) compiles from VirtualService, DestinationRule
// and GAMMA HTTPRoute once per config, frozen, and what the route filter reads per request. The shape
// follows Envoy's RDS (virtual hosts by domain, routes in order, weighted clusters) with Istio's cluster
// names (`outbound|port|subset|host`), so `proxy-config routes` can print what Istio users expect.
import type { HeaderOps } from '../http1/headers.js';
import type { LbPolicy } from '../balance/policy.js';
import type { RoutePolicy } from '../resilience/policy.js';
import type { OutlierPolicy, PoolLimits } from '../resilience/cluster.js';

/** What a route looks at in a request (a cheap per-request object). */
export interface RequestView {
  method: string;
  scheme: string;
  /** Host / :authority as sent. */
  authority: string;
  /** Path with query string. */
  path: string;
  /** Flat [name, value, …], names lowercased. */
  headers: readonly string[];
  /** Destination (service) port. */
  port: number;
  sourceLabels: Readonly<Record<string, string>>;
  sourceNamespace: string;
  sourceIp: string;
}

/** One destination of a route: a cluster with its weight and header operations. */
export interface RouteDestination {
  /** `outbound|port|subset|host`. */
  cluster: string;
  host: string;
  port: number;
  subset: string;
  weight: number;
  requestOps: HeaderOps;
  responseOps: HeaderOps;
}

export interface Rewrite {
  uri?: string;
  authority?: string;
  regex?: { re: RegExp; substitution: string };
}

export interface Redirect {
  uri?: string;
  /** Gateway API ReplacePrefixMatch: replace only the matched prefix. */
  prefixReplace?: string;
  authority?: string;
  port?: number;
  derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  scheme?: string;
  code: number;
}

export type RouteAction =
  | { kind: 'route'; destinations: readonly RouteDestination[]; pick: () => RouteDestination; peek?: () => RouteDestination }
  | { kind: 'redirect'; redirect: Redirect }
  | { kind: 'direct'; status: number; body: Buffer };

/** A compiled match block: all conditions must hold. `prefix` is the matched uri prefix (for rewrite). */
export interface CompiledMatch {
  name: string;
  test: (r: RequestView) => boolean;
  prefix?: string;
  /** Gateway API PathPrefix: segment-wise. */
  segmentPrefix?: boolean;
  /** The first condition `r` fails, with its value (null when `test` holds): for `/explain`. */
  explain?: (r: RequestView) => string | null;
  /** The conditions in words (`uri {"prefix":"/api"} && header end-user {"exact":"jason"}`), for `proxy-config routes`. */
  summary?: string;
}

/** One route of a virtual host; `matches` are OR, empty matches everything. */
export interface Route {
  /** The rule's name, or `ns/vs-name:http[i]`. */
  name: string;
  /** Where it came from: `VirtualService ns/name spec.http[i]` or `HTTPRoute ns/name spec.rules[i]`. */
  source: string;
  matches: readonly CompiledMatch[];
  action: RouteAction;
  rewrite?: Rewrite;
  requestOps: HeaderOps;
  responseOps: HeaderOps;
  /** timeout and retries (../resilience); absent: Istio's default (no timeout, 2 retries on connect-failure, refused-stream, 503). */
  policy?: RoutePolicy;
}

/** The routes of one service host:port. */
export interface VirtualHost {
  /** `fqdn:port`. */
  name: string;
  /** Names and addresses a request's authority may carry for this host (with and without the port). */
  domains: readonly string[];
  routes: readonly Route[];
}

/** One upstream cluster: endpoints selected by subset labels, with its effective policy. */
export interface Cluster {
  name: string;
  host: string;
  port: number;
  subset: string;
  /** Endpoint label selector of the subset ({} for the whole service). */
  labels: Readonly<Record<string, string>>;
  lb: LbPolicy;
  /** DestinationRule connectionPool (absent: unlimited). */
  limits?: PoolLimits;
  /** DestinationRule outlierDetection (absent: off). */
  outlier?: OutlierPolicy | null;
}

/** The frozen result of compiling a config. */
export interface RouteTable {
  /** By destination port, then by domain. */
  readonly ports: ReadonlyMap<number, ReadonlyMap<string, VirtualHost>>;
  readonly clusters: ReadonlyMap<string, Cluster>;
}
