// networking.istio.io/v1 VirtualService, DestinationRule and Gateway, field for field with Istio's
// networking API protos (camelCase JSON): HTTP routes with match/route/weight/retries/timeout/fault/
// mirror, traffic policies with load balancer, connection pool, outlier detection and TLS, gateway
// servers. Checks follow istiod's validation: weights sum to 100, hosts required, durations, etc.

import { age } from '../../age.js';
import { validateLabels } from '../../labels.js';
import { any, arr, bool, enm, int, map, num, obj, str } from '../../schema/schema.js';
import { cidr, ipAddress, portNumber } from '../../validation/names.js';
import { type FieldError, Path, asArr, dupChecker, each, fieldError, kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';
import { validateDestinationRuleL7, validateVirtualServiceL7 } from './networking-l7.js';
import { parseRetryOn } from './retry-on.js';

/** Istio categories, as its CRDs declare them. */
export const istioNetworking = ['istio-io', 'networking-istio-io'];
/** The versions Istio serves networking.istio.io kinds at (one schema; stored as v1). */
export const istioNetworkingVersions = ['v1', 'v1beta1', 'v1alpha3'];

const durationRe = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** Istio durations (`1.5s`, `100ms`, `1h30m`). */
export function checkDuration(errs: FieldError[], p: Path, v: unknown, min = 0.001): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || !durationRe.test(v)) return void errs.push(fieldError.invalid(p, v, 'must be a duration such as "1s", "500ms" or "1h30m"'));
  if (durationSeconds(v) < min) errs.push(fieldError.invalid(p, v, `duration must be at least ${min * 1000}ms`));
}

/** Seconds in a Go-style duration string. */
export function durationSeconds(v: string): number {
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of v.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

const stringMatch = obj({ exact: str, prefix: str, regex: str });
const portSelector = obj({ number: int });
const destination = obj({ host: str, subset: str, port: portSelector }, ['host']);
const percent = obj({ value: num });
const headerOps = obj({ set: map(), add: map(), remove: arr(str) });
const headers = obj({ request: headerOps, response: headerOps });

const httpMatch = obj({
  name: str,
  uri: stringMatch,
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: map(stringMatch),
  port: int,
  sourceLabels: map(),
  gateways: arr(str),
  queryParams: map(stringMatch),
  ignoreUriCase: bool,
  withoutHeaders: map(stringMatch),
  sourceNamespace: str,
  statPrefix: str,
});

const httpRoute = obj({
  name: str,
  match: arr(httpMatch),
  route: arr(obj({ destination, weight: int, headers }, ['destination'])),
  redirect: obj({ uri: str, authority: str, port: int, derivePort: enm('FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'), scheme: str, redirectCode: int }),
  directResponse: obj({ status: int, body: obj({ string: str, bytes: str }) }, ['status']),
  delegate: obj({ name: str, namespace: str }),
  rewrite: obj({ uri: str, authority: str, uriRegexRewrite: obj({ match: str, rewrite: str }) }),
  timeout: str,
  retries: obj({ attempts: int, perTryTimeout: str, retryOn: str, retryRemoteLocalities: bool, retryIgnorePreviousHosts: bool, backoff: str }),
  fault: obj({
    delay: obj({ fixedDelay: str, exponentialDelay: str, percentage: percent, percent: int }),
    abort: obj({ httpStatus: int, grpcStatus: str, http2Error: str, percentage: percent }),
  }),
  mirror: destination,
  mirrors: arr(obj({ destination, percentage: percent }, ['destination'])),
  mirrorPercentage: percent,
  mirrorPercent: int,
  corsPolicy: obj({
    allowOrigins: arr(stringMatch),
    allowOrigin: arr(str),
    allowMethods: arr(str),
    allowHeaders: arr(str),
    exposeHeaders: arr(str),
    maxAge: str,
    allowCredentials: bool,
    unmatchedPreflights: enm('UNSPECIFIED', 'FORWARD', 'IGNORE'),
  }),
  headers,
});

const l4Match = { destinationSubnets: arr(str), port: int, sourceLabels: map(), gateways: arr(str), sourceNamespace: str };
const routeDestination = obj({ destination, weight: int }, ['destination']);

const virtualServiceSpec = obj({
  hosts: arr(str),
  gateways: arr(str),
  http: arr(httpRoute),
  tls: arr(obj({ match: arr(obj({ sniHosts: arr(str), ...l4Match }, ['sniHosts'])), route: arr(routeDestination) }, ['match'])),
  tcp: arr(obj({ match: arr(obj({ ...l4Match, sourceSubnet: str })), route: arr(routeDestination) })),
  exportTo: arr(str),
});

function validateWeights(errs: FieldError[], p: Path, routes: any[]): void {
  routes.forEach((r: any, i: number) => {
    if (typeof r.weight === 'number' && r.weight < 0) errs.push(fieldError.invalid(p.index(i).child('weight'), r.weight, 'weight must be non-negative'));
    if (r.destination?.port?.number !== undefined) each(errs, p.index(i).child('destination', 'port', 'number'), r.destination.port.number, portNumber(r.destination.port.number));
  });
  if (routes.length > 1) {
    const sum = routes.reduce((s: number, r: any) => s + (r.weight ?? 0), 0);
    if (sum !== 100) errs.push(fieldError.invalid(p, sum, `total destination weight ${sum} != 100`));
  }
}

function checkPercent(errs: FieldError[], p: Path, v: any): void {
  if (v && typeof v.value === 'number' && (v.value < 0 || v.value > 100)) errs.push(fieldError.invalid(p.child('value'), v.value, 'percentage must be in range [0.0, 100.0]'));
}

function validateVirtualService(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  const hosts = asArr(spec.hosts);
  const delegate = hosts.length === 0 && asArr(spec.gateways).length === 0;
  if (hosts.length === 0 && !delegate) errs.push(fieldError.required(p.child('hosts'), 'virtual service must have at least one host'));
  hosts.forEach((h: string, i: number) => {
    if (h === '') errs.push(fieldError.invalid(p.child('hosts').index(i), h, 'host cannot be empty'));
    else if (h.includes('/')) errs.push(fieldError.invalid(p.child('hosts').index(i), h, 'host must be a name, not a path or URL'));
  });
  if (asArr(spec.http).length + asArr(spec.tls).length + asArr(spec.tcp).length === 0)
    errs.push(fieldError.required(p, 'http, tcp or tls must be provided in virtual service'));
  asArr(spec.http).forEach((r: any, i: number) => {
    const rp = p.child('http').index(i);
    const actions = ['route', 'redirect', 'directResponse', 'delegate'].filter((k) => (k === 'route' ? asArr(r.route).length > 0 : r[k]));
    if (actions.length === 0) errs.push(fieldError.required(rp, 'HTTP route, redirect, direct response or delegate is required'));
    if (actions.length > 1) errs.push(fieldError.invalid(rp, actions.join(','), 'only one of route, redirect, directResponse or delegate may be set'));
    if (r.rewrite && (r.redirect || r.directResponse)) errs.push(fieldError.invalid(rp.child('rewrite'), 'object', 'rewrite may not be combined with redirect or directResponse'));
    validateWeights(errs, rp.child('route'), asArr(r.route));
    checkDuration(errs, rp.child('timeout'), r.timeout, 0);
    if (r.retries) {
      if (typeof r.retries.attempts === 'number' && r.retries.attempts < 0) errs.push(fieldError.invalid(rp.child('retries', 'attempts'), r.retries.attempts, 'attempts cannot be negative'));
      checkDuration(errs, rp.child('retries', 'perTryTimeout'), r.retries.perTryTimeout);
      checkDuration(errs, rp.child('retries', 'backoff'), r.retries.backoff);
      const bad = typeof r.retries.retryOn === 'string' && r.retries.retryOn !== '' ? parseRetryOn(r.retries.retryOn).error : undefined;
      if (bad) errs.push(fieldError.invalid(rp.child('retries', 'retryOn'), r.retries.retryOn, bad));
    }
    const f = r.fault;
    if (f) {
      if (f.delay) {
        if (!f.delay.fixedDelay && !f.delay.exponentialDelay) errs.push(fieldError.required(rp.child('fault', 'delay', 'fixedDelay')));
        checkDuration(errs, rp.child('fault', 'delay', 'fixedDelay'), f.delay.fixedDelay);
        checkPercent(errs, rp.child('fault', 'delay', 'percentage'), f.delay.percentage);
      }
      if (f.abort) {
        const hs = f.abort.httpStatus;
        if (hs === undefined && !f.abort.grpcStatus && !f.abort.http2Error) errs.push(fieldError.required(rp.child('fault', 'abort', 'httpStatus')));
        if (typeof hs === 'number' && (hs < 200 || hs > 599)) errs.push(fieldError.invalid(rp.child('fault', 'abort', 'httpStatus'), hs, 'must be in range 200..599'));
        checkPercent(errs, rp.child('fault', 'abort', 'percentage'), f.abort.percentage);
      }
      if (!f.delay && !f.abort) errs.push(fieldError.required(rp.child('fault'), 'fault must have at least delay or abort'));
    }
    if (r.mirror && asArr(r.mirrors).length) errs.push(fieldError.invalid(rp.child('mirror'), 'object', 'mirror and mirrors may not both be set'));
    if (r.mirror && !r.mirror.host) errs.push(fieldError.required(rp.child('mirror', 'host')));
    checkPercent(errs, rp.child('mirrorPercentage'), r.mirrorPercentage);
    asArr(r.mirrors).forEach((m: any, j: number) => checkPercent(errs, rp.child('mirrors').index(j).child('percentage'), m.percentage));
    if (r.redirect && typeof r.redirect.redirectCode === 'number' && (r.redirect.redirectCode < 300 || r.redirect.redirectCode > 399))
      errs.push(fieldError.invalid(rp.child('redirect', 'redirectCode'), r.redirect.redirectCode, 'redirect code must be 3xx'));
    if (r.directResponse && (r.directResponse.status < 200 || r.directResponse.status > 599))
      errs.push(fieldError.invalid(rp.child('directResponse', 'status'), r.directResponse.status, 'must be in range 200..599'));
    asArr(r.match).forEach((m: any, j: number) => {
      const mp = rp.child('match').index(j);
      for (const k of ['uri', 'scheme', 'method', 'authority'])
        if (m[k] && Object.keys(m[k]).filter((x) => m[k][x] !== undefined).length !== 1)
          errs.push(fieldError.invalid(mp.child(k), 'object', 'exactly one of exact, prefix or regex must be set'));
      if (m.port !== undefined) each(errs, mp.child('port'), m.port, portNumber(m.port));
      errs.push(...validateLabels(m.sourceLabels, mp.child('sourceLabels')));
    });
  });
  for (const which of ['tls', 'tcp'] as const)
    asArr(spec[which]).forEach((r: any, i: number) => {
      const rp = p.child(which).index(i);
      if (asArr(r.route).length === 0) errs.push(fieldError.required(rp.child('route'), 'route is required'));
      validateWeights(errs, rp.child('route'), asArr(r.route));
      asArr(r.match).forEach((m: any, j: number) =>
        asArr(m.destinationSubnets).forEach((s: string, k: number) => {
          const sp = rp.child('match').index(j).child('destinationSubnets').index(k);
          each(errs, sp, s, s.includes('/') ? cidr(s) : ipAddress(s));
        }),
      );
    });
  // The layer-7 checks (RE2 regexes, one StringMatch kind, conflicting fields, more durations): networking-l7.ts.
  errs.push(...validateVirtualServiceL7(o));
  return errs;
}

/** networking.istio.io/v1 VirtualService */
export const virtualService = defineKind({
  group: 'networking.istio.io',
  version: 'v1',
  servedVersions: istioNetworkingVersions,
  kind: 'VirtualService',
  plural: 'virtualservices',
  shortNames: ['vs'],
  namespaced: true,
  categories: istioNetworking,
  status: true,
  schema: kindSchema({ spec: virtualServiceSpec, status: any }),
  semantic: validateVirtualService,
  columns: [nameCol, col('Gateways'), col('Hosts'), ageCol],
  cells: (o, now) => [o.metadata.name, jsonList(o.spec?.gateways), jsonList(o.spec?.hosts), age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Configuration affecting label/content routing, sni routing, etc. See more details at: https://istio.io/docs/reference/config/networking/virtual-service.html',
    'spec.hosts': 'The destination hosts to which traffic is being sent.',
    'spec.gateways': 'The names of gateways and sidecars that should apply these routes.',
    'spec.http': 'An ordered list of route rules for HTTP traffic.',
    'spec.http.name': 'The name assigned to the route for debugging purposes.',
    'spec.http.match': 'Match conditions to be satisfied for the rule to be activated.',
    'spec.http.route': 'A HTTP rule can either return a direct_response, redirect or forward (default) traffic.',
    'spec.http.route.destination': 'Destination uniquely identifies the instances of a service to which the request/connection should be forwarded to.',
    'spec.http.route.weight': 'Weight specifies the relative proportion of traffic to be forwarded to the destination.',
    'spec.http.redirect': 'A HTTP rule can either return a direct_response, redirect or forward (default) traffic.',
    'spec.http.directResponse': 'A HTTP rule can either return a direct_response, redirect or forward (default) traffic.',
    'spec.http.delegate': 'Delegate is used to specify the particular VirtualService which can be used to define delegate HTTPRoute.',
    'spec.http.rewrite': 'Rewrite HTTP URIs and Authority headers.',
    'spec.http.timeout': 'Timeout for HTTP requests, default is disabled.',
    'spec.http.retries': 'Retry policy for HTTP requests.',
    'spec.http.fault': 'Fault injection policy to apply on HTTP traffic at the client side.',
    'spec.http.mirror': 'Mirror HTTP traffic to a another destination in addition to forwarding the requests to the intended destination.',
    'spec.http.mirrorPercentage': 'Percentage of the traffic to be mirrored by the `mirror` field.',
    'spec.http.mirrors': 'Specifies the destinations to mirror HTTP traffic in addition to the original destination.',
    'spec.http.corsPolicy': 'Cross-Origin Resource Sharing policy (CORS).',
    'spec.http.headers': 'Header manipulation rules.',
    'spec.tls': 'An ordered list of route rule for non-terminated TLS & HTTPS traffic.',
    'spec.tcp': 'An ordered list of route rules for opaque TCP traffic.',
    'spec.exportTo': 'A list of namespaces to which this virtual service is exported.',
    'spec.http.match.uri': 'URI to match; values are case-sensitive and formatted as exact, prefix or regex.',
    'spec.http.match.headers': 'The header keys must be lowercase and use hyphen as the separator; values match as exact, prefix or regex.',
    'spec.http.match.method': 'HTTP Method to match; values are case-sensitive.',
    'spec.http.match.queryParams': 'Query parameters for matching.',
    'spec.http.match.sourceLabels': 'One or more labels that constrain the applicability of a rule to source (client) workloads with the given labels.',
    'spec.http.match.gateways': 'Names of gateways where the rule should be applied.',
    'spec.http.match.port': 'Specifies the ports on the host that is being addressed.',
    'spec.http.route.destination.host': 'The name of a service from the service registry.',
    'spec.http.route.destination.subset': 'The name of a subset within the service.',
    'spec.http.route.destination.port': 'Specifies the port on the host that is being addressed.',
    'spec.http.route.headers': 'Header manipulation rules applied to this destination.',
    'spec.http.retries.attempts': 'Number of retries to be allowed for a given request.',
    'spec.http.retries.perTryTimeout': 'Timeout per attempt for a given request, including the initial call and any retries.',
    'spec.http.retries.retryOn': 'Specifies the conditions under which retry takes place.',
    'spec.http.fault.delay': 'Delay requests before forwarding, emulating various failures such as network issues, overloaded upstream service, etc.',
    'spec.http.fault.abort': 'Abort Http request attempts and return error codes back to downstream service, giving the impression that the upstream service is faulty.',
  },
});

/** kubectl prints a JSONPath array column as compact JSON. */
export function jsonList(v: unknown): string {
  return Array.isArray(v) && v.length ? JSON.stringify(v) : '';
}

// ---------------------------------------------------------------------------------------------
// DestinationRule

const tlsSettings = obj({
  mode: enm('DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'),
  clientCertificate: str,
  privateKey: str,
  caCertificates: str,
  credentialName: str,
  subjectAltNames: arr(str),
  sni: str,
  insecureSkipVerify: bool,
  caCrl: str,
});
const loadBalancer = obj({
  simple: enm('UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'),
  consistentHash: obj({
    httpHeaderName: str,
    httpCookie: obj({ name: str, path: str, ttl: str, attributes: arr(obj({ name: str, value: str })) }, ['name']),
    useSourceIp: bool,
    httpQueryParameterName: str,
    ringHash: obj({ minimumRingSize: int }),
    maglev: obj({ tableSize: int }),
    minimumRingSize: int,
  }),
  localityLbSetting: any,
  warmupDurationSecs: str,
  warmup: any,
});
const connectionPool = obj({
  tcp: obj({
    maxConnections: int,
    connectTimeout: str,
    tcpKeepalive: obj({ probes: int, time: str, interval: str }),
    maxConnectionDuration: str,
    idleTimeout: str,
  }),
  http: obj({
    http1MaxPendingRequests: int,
    http2MaxRequests: int,
    maxRequestsPerConnection: int,
    maxRetries: int,
    idleTimeout: str,
    h2UpgradePolicy: enm('DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'),
    useClientProtocol: bool,
    maxConcurrentStreams: int,
  }),
});
const outlierDetection = obj({
  splitExternalLocalOriginErrors: bool,
  consecutiveLocalOriginFailures: int,
  consecutiveGatewayErrors: int,
  consecutive5xxErrors: int,
  consecutiveErrors: int,
  interval: str,
  baseEjectionTime: str,
  maxEjectionPercent: int,
  minHealthPercent: int,
});
const policyFields = { loadBalancer, connectionPool, outlierDetection, tls: tlsSettings };
const trafficPolicy = obj({
  ...policyFields,
  portLevelSettings: arr(obj({ port: portSelector, ...policyFields })),
  tunnel: obj({ protocol: str, targetHost: str, targetPort: int }, ['targetHost', 'targetPort']),
  proxyProtocol: obj({ version: enm('V1', 'V2') }),
  retryBudget: any,
});

function validatePolicy(errs: FieldError[], p: Path, tp: any): void {
  if (!tp) return;
  const od = tp.outlierDetection;
  if (od) {
    for (const f of ['maxEjectionPercent', 'minHealthPercent'])
      if (typeof od[f] === 'number' && (od[f] < 0 || od[f] > 100)) errs.push(fieldError.invalid(p.child('outlierDetection', f), od[f], 'must be in range [0, 100]'));
    for (const f of ['consecutiveErrors', 'consecutive5xxErrors', 'consecutiveGatewayErrors', 'consecutiveLocalOriginFailures'])
      if (typeof od[f] === 'number' && od[f] < 0) errs.push(fieldError.invalid(p.child('outlierDetection', f), od[f], 'must be non-negative'));
    checkDuration(errs, p.child('outlierDetection', 'interval'), od.interval);
    checkDuration(errs, p.child('outlierDetection', 'baseEjectionTime'), od.baseEjectionTime);
  }
  const cp = tp.connectionPool;
  if (cp?.tcp) {
    checkDuration(errs, p.child('connectionPool', 'tcp', 'connectTimeout'), cp.tcp.connectTimeout);
    if (typeof cp.tcp.maxConnections === 'number' && cp.tcp.maxConnections < 0)
      errs.push(fieldError.invalid(p.child('connectionPool', 'tcp', 'maxConnections'), cp.tcp.maxConnections, 'must be non-negative'));
  }
  if (cp?.http) {
    for (const f of ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries'])
      if (typeof cp.http[f] === 'number' && cp.http[f] < 0) errs.push(fieldError.invalid(p.child('connectionPool', 'http', f), cp.http[f], 'must be non-negative'));
    checkDuration(errs, p.child('connectionPool', 'http', 'idleTimeout'), cp.http.idleTimeout);
  }
  const lb = tp.loadBalancer;
  if (lb && lb.simple && lb.consistentHash) errs.push(fieldError.invalid(p.child('loadBalancer'), 'object', 'only one of simple or consistentHash may be set'));
  const tls = tp.tls;
  if (tls?.mode === 'MUTUAL' && !tls.credentialName && (!tls.clientCertificate || !tls.privateKey))
    errs.push(fieldError.required(p.child('tls', 'clientCertificate'), 'client certificate and private key are required for mutual TLS unless credentialName is set'));
  asArr(tp.portLevelSettings).forEach((pl: any, i: number) => {
    const pp = p.child('portLevelSettings').index(i);
    if (!pl.port?.number) errs.push(fieldError.required(pp.child('port', 'number')));
    else each(errs, pp.child('port', 'number'), pl.port.number, portNumber(pl.port.number));
    validatePolicy(errs, pp, { ...pl, portLevelSettings: undefined });
  });
}

/** networking.istio.io/v1 DestinationRule */
export const destinationRule = defineKind({
  group: 'networking.istio.io',
  version: 'v1',
  servedVersions: istioNetworkingVersions,
  kind: 'DestinationRule',
  plural: 'destinationrules',
  shortNames: ['dr'],
  namespaced: true,
  categories: istioNetworking,
  status: true,
  schema: kindSchema({
    spec: obj(
      {
        host: str,
        trafficPolicy,
        subsets: arr(obj({ name: str, labels: map(), trafficPolicy }, ['name'])),
        exportTo: arr(str),
        workloadSelector: obj({ matchLabels: map() }),
      },
      ['host'],
    ),
    status: any,
  }),
  semantic(o) {
    const errs: FieldError[] = [];
    const spec = o.spec ?? {};
    const p = Path.root('spec');
    if (spec.host === '') errs.push(fieldError.required(p.child('host')));
    validatePolicy(errs, p.child('trafficPolicy'), spec.trafficPolicy);
    const dup = dupChecker(errs);
    asArr(spec.subsets).forEach((s: any, i: number) => {
      const sp = p.child('subsets').index(i);
      if (s.name === '') errs.push(fieldError.required(sp.child('name')));
      else dup(sp.child('name'), s.name);
      errs.push(...validateLabels(s.labels, sp.child('labels')));
      validatePolicy(errs, sp.child('trafficPolicy'), s.trafficPolicy);
    });
    errs.push(...validateDestinationRuleL7(o));
    return errs;
  },
  columns: [nameCol, col('Host'), ageCol],
  cells: (o, now) => [o.metadata.name, o.spec?.host ?? '', age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Configuration affecting load balancing, outlier detection, etc. See more details at: https://istio.io/docs/reference/config/networking/destination-rule.html',
    'spec.host': 'The name of a service from the service registry.',
    'spec.trafficPolicy': 'Traffic policies to apply (load balancing policy, connection pool sizes, outlier detection).',
    'spec.subsets': 'One or more named sets that represent individual versions of a service.',
    'spec.exportTo': 'A list of namespaces to which this destination rule is exported.',
    'spec.workloadSelector': 'Criteria used to select the specific set of pods/VMs on which this `DestinationRule` configuration should be applied.',
    'spec.trafficPolicy.loadBalancer': 'Settings controlling the load balancer algorithms.',
    'spec.trafficPolicy.connectionPool': 'Settings controlling the volume of connections to an upstream service.',
    'spec.trafficPolicy.outlierDetection': 'Settings controlling eviction of unhealthy hosts from the load balancing pool.',
    'spec.trafficPolicy.tls': 'TLS related settings for connections to the upstream service.',
    'spec.trafficPolicy.portLevelSettings': 'Traffic policies specific to individual ports.',
    'spec.subsets.name': 'Name of the subset.',
    'spec.subsets.labels': 'Labels apply a filter over the endpoints of a service in the service registry.',
    'spec.subsets.trafficPolicy': 'Traffic policies that apply to this subset.',
  },
});

// ---------------------------------------------------------------------------------------------
// Gateway

const serverTls = obj({
  httpsRedirect: bool,
  mode: enm('PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'),
  serverCertificate: str,
  privateKey: str,
  caCertificates: str,
  caCrl: str,
  credentialName: str,
  credentialNames: arr(str),
  tlsCertificates: arr(obj({ serverCertificate: str, privateKey: str, caCertificates: str })),
  subjectAltNames: arr(str),
  verifyCertificateSpki: arr(str),
  verifyCertificateHash: arr(str),
  minProtocolVersion: enm('TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'),
  maxProtocolVersion: enm('TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'),
  cipherSuites: arr(str),
});
const gatewayProtocols = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'TCP', 'TLS'];

/** networking.istio.io/v1 Gateway */
export const istioGateway = defineKind({
  group: 'networking.istio.io',
  version: 'v1',
  servedVersions: istioNetworkingVersions,
  kind: 'Gateway',
  plural: 'gateways',
  shortNames: ['gw'],
  namespaced: true,
  categories: istioNetworking,
  status: true,
  schema: kindSchema({
    spec: obj({
      servers: arr(
        obj(
          { port: obj({ number: int, protocol: str, name: str, targetPort: int }, ['number', 'protocol']), bind: str, hosts: arr(str), tls: serverTls, defaultEndpoint: str, name: str },
          ['port', 'hosts'],
        ),
      ),
      selector: map(),
    }),
    status: any,
  }),
  semantic(o) {
    const errs: FieldError[] = [];
    const p = Path.root('spec');
    const servers = asArr(o.spec?.servers);
    if (servers.length === 0) errs.push(fieldError.required(p.child('servers'), 'gateway must have at least one server'));
    errs.push(...validateLabels(o.spec?.selector, p.child('selector')));
    const names = dupChecker(errs);
    servers.forEach((s: any, i: number) => {
      const sp = p.child('servers').index(i);
      if (!s.port) return; // Required, reported by the schema
      each(errs, sp.child('port', 'number'), s.port.number, portNumber(s.port.number));
      const proto = String(s.port.protocol).toUpperCase();
      if (!gatewayProtocols.includes(proto)) errs.push(fieldError.notSupported(sp.child('port', 'protocol'), s.port.protocol, gatewayProtocols));
      if (asArr(s.hosts).length === 0) errs.push(fieldError.required(sp.child('hosts'), 'server config must contain at least one host'));
      asArr(s.hosts).forEach((h: string, j: number) => {
        const host = h.includes('/') ? h.slice(h.indexOf('/') + 1) : h;
        if (host === '') errs.push(fieldError.invalid(sp.child('hosts').index(j), h, 'host cannot be empty'));
      });
      if ((proto === 'HTTPS' || proto === 'TLS') && !s.tls) errs.push(fieldError.required(sp.child('tls'), 'server must have TLS settings for HTTPS/TLS protocols'));
      if (s.tls && (s.tls.mode === 'SIMPLE' || s.tls.mode === 'MUTUAL') && !s.tls.credentialName && asArr(s.tls.credentialNames).length === 0 && (!s.tls.serverCertificate || !s.tls.privateKey))
        errs.push(fieldError.required(sp.child('tls', 'credentialName'), 'SIMPLE and MUTUAL TLS modes require credentialName or serverCertificate and privateKey'));
      if (s.port.name) names(sp.child('port', 'name'), s.port.name);
      if (s.bind) each(errs, sp.child('bind'), s.bind, ipAddress(s.bind.replace(/^unix:\/\/.*/, '127.0.0.1')));
    });
    return errs;
  },
  columns: [nameCol, ageCol],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Configuration affecting edge load balancer. See more details at: https://istio.io/docs/reference/config/networking/gateway.html',
    'spec.selector': 'One or more labels that indicate a specific set of pods/VMs on which this gateway configuration should be applied.',
    'spec.servers': 'A list of server specifications.',
    'spec.servers.port': 'The Port on which the proxy should listen for incoming connections.',
    'spec.servers.hosts': 'One or more hosts exposed by this gateway.',
    'spec.servers.tls': "Set of TLS related options that govern the server's behavior.",
  },
});
