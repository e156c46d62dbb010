// networking.istio.io ServiceEntry, WorkloadEntry and Sidecar, field for field with Istio's networking
// API protos (served at v1, v1beta1 and v1alpha3, stored as v1, like Istio's CRDs), with the checks
// istiod's validation and the CRDs' CEL rules make. Schemas and validation only: what they change in
// the data plane (mesh hosts outside the registry, what a proxy is sent and lets out) is the mesh's.

import { isIP } from 'node:net';
import { age } from '../../age.js';
import { validateLabels } from '../../labels.js';
import { any, arr, bool, enm, int, map, obj, str } from '../../schema/schema.js';
import { cidr, ipAddress, wildcardOrSubdomain } from '../../validation/names.js';
import { type FieldError, Path, asArr, dupChecker, each, fieldError, kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';
import { checkDuration, istioNetworking, istioNetworkingVersions, jsonList } from './networking.js';

/** Protocols Istio recognises on a port (case-insensitive), as its protocol.Parse. */
const protocols = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'HTTP_PROXY', 'MONGO', 'MYSQL', 'REDIS', 'TCP', 'TLS', 'UDP'];

/** An Istio port: number, protocol, name, targetPort. */
const servicePort = obj({ number: int, protocol: str, name: str, targetPort: int }, ['number', 'name']);
const workloadSelector = obj({ labels: map() });

function checkProtocol(errs: FieldError[], p: Path, v: unknown): void {
  if (typeof v === 'string' && v !== '' && !protocols.includes(v.toUpperCase())) errs.push(fieldError.notSupported(p, v, protocols));
}

function checkPort(errs: FieldError[], p: Path, v: unknown): void {
  if (typeof v === 'number') each(errs, p, v, v > 65535 || v < 1 ? ['port must be between 1-65535'] : []);
}

/**
 * A host name or `*.suffix` (case-insensitive, as istiod's ValidateWildcardDomain; an IPv4 address passes
 * as a name, as it does there); `*` alone is refused where the CRD says "hostname cannot be wildcard".
 */
function checkHost(errs: FieldError[], p: Path, h: string, allowStar: boolean): void {
  if (h === '*') {
    if (!allowStar) errs.push(fieldError.invalid(p, h, 'hostname cannot be wildcard'));
    return;
  }
  each(errs, p, h, wildcardOrSubdomain(h.toLowerCase()));
}

/** exportTo: `.`, `*`, `~` or namespace names. */
export function checkExportTo(errs: FieldError[], p: Path, v: unknown): void {
  asArr(v).forEach((x: string, i: number) => {
    if (x !== '*' && x !== '.' && x !== '~' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(x)) errs.push(fieldError.invalid(p.index(i), x, 'must be ".", "*", "~" or a namespace name'));
  });
}

function checkWorkloadSelector(errs: FieldError[], p: Path, ws: any): void {
  if (!ws) return;
  errs.push(...validateLabels(ws.labels, p.child('labels')));
  for (const [k, v] of Object.entries(ws.labels ?? {}))
    if (String(v).includes('*')) errs.push(fieldError.invalid(p.child('labels').key(k), v, 'wildcard is not supported in selector'));
}

/** An endpoint address: IP, host name or unix:///path (WorkloadEntry and ServiceEntry endpoints). */
function checkAddress(errs: FieldError[], p: Path, e: any, needIp: boolean): void {
  const a = e.address;
  if (a === undefined || a === null || a === '') {
    if (!e.network) errs.push(fieldError.required(p.child('address'), 'Address is required'));
    return;
  }
  if (a.startsWith('unix://')) {
    const path = a.slice(7);
    if (!path.startsWith('/') && !path.startsWith('@')) errs.push(fieldError.invalid(p.child('address'), a, 'UDS must be an absolute path or abstract socket'));
    if (a.endsWith('/')) errs.push(fieldError.invalid(p.child('address'), a, 'UDS may not be a dir'));
    if (e.ports && Object.keys(e.ports).length) errs.push(fieldError.forbidden(p.child('ports'), 'UDS may not include ports'));
    return;
  }
  if (a.length > 256) errs.push(fieldError.tooLong(p.child('address'), a, 256));
  if (needIp) each(errs, p.child('address'), a, ipAddress(a));
  else if (!isIP(a)) each(errs, p.child('address'), a, wildcardOrSubdomain(a.toLowerCase()));
}

function checkEndpointPorts(errs: FieldError[], p: Path, ports: Record<string, unknown> | undefined, known?: Set<string>): void {
  for (const [name, n] of Object.entries(ports ?? {})) {
    const pp = p.key(name);
    if (name.length >= 63 || !/^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(name)) errs.push(fieldError.invalid(p, name, 'port name must be valid'));
    else if (known && !known.has(name)) errs.push(fieldError.invalid(pp, name, 'endpoint port is not defined by the service entry'));
    checkPort(errs, pp, n);
  }
}

// ---------------------------------------------------------------------------------------------
// ServiceEntry

const workloadEntrySpec = {
  address: str,
  ports: map(int),
  labels: map(),
  network: str,
  locality: str,
  weight: int,
  serviceAccount: str,
};

const serviceEntrySpec = obj(
  {
    hosts: arr(str),
    addresses: arr(str),
    ports: arr(servicePort),
    location: enm('MESH_EXTERNAL', 'MESH_INTERNAL'),
    resolution: enm('NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'),
    endpoints: arr(obj(workloadEntrySpec)),
    workloadSelector,
    exportTo: arr(str),
    subjectAltNames: arr(str),
  },
  ['hosts'],
);

function validateServiceEntry(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  const resolution = spec.resolution ?? 'NONE';
  const hosts = asArr(spec.hosts);
  if (Array.isArray(spec.hosts) && hosts.length === 0) errs.push(fieldError.required(p.child('hosts'), 'service entry must have at least one host'));
  if (hosts.length > 256) errs.push(fieldError.tooMany(p.child('hosts'), hosts.length, 256));
  hosts.forEach((h: string, i: number) => checkHost(errs, p.child('hosts').index(i), h, false));
  const addresses = asArr(spec.addresses);
  if (addresses.length > 256) errs.push(fieldError.tooMany(p.child('addresses'), addresses.length, 256));
  addresses.forEach((a: string, i: number) => {
    const ap = p.child('addresses').index(i);
    each(errs, ap, a, a.includes('/') ? cidr(a) : ipAddress(a));
    if (a.includes('/') && resolution !== 'NONE' && resolution !== 'STATIC') errs.push(fieldError.invalid(ap, a, 'CIDR addresses are allowed only for NONE/STATIC resolution types'));
  });
  const names = dupChecker(errs);
  const numbers = new Set<number>();
  const portNames = new Set<string>();
  asArr(spec.ports).forEach((port: any, i: number) => {
    const pp = p.child('ports').index(i);
    checkPort(errs, pp.child('number'), port.number);
    if (typeof port.number === 'number' && numbers.has(port.number)) errs.push(fieldError.duplicate(pp.child('number'), port.number));
    numbers.add(port.number);
    if (port.targetPort !== undefined) checkPort(errs, pp.child('targetPort'), port.targetPort);
    if (port.name === '') errs.push(fieldError.required(pp.child('name')));
    else if (typeof port.name === 'string') {
      each(errs, pp.child('name'), port.name, port.name.length > 256 ? ['must be no more than 256 characters'] : []);
      names(pp.child('name'), port.name);
      portNames.add(port.name);
    }
    checkProtocol(errs, pp.child('protocol'), port.protocol);
  });
  const endpoints = asArr(spec.endpoints);
  if (spec.workloadSelector && spec.endpoints) errs.push(fieldError.invalid(p.child('workloadSelector'), 'object', 'only one of WorkloadSelector or Endpoints can be set'));
  if (resolution === 'NONE' && spec.endpoints) errs.push(fieldError.forbidden(p.child('endpoints'), 'NONE mode cannot set endpoints'));
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) errs.push(fieldError.invalid(p.child('endpoints'), endpoints.length, 'DNS_ROUND_ROBIN mode cannot have multiple endpoints'));
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && endpoints.length === 0)
    hosts.forEach((h: string, i: number) => {
      if (h.startsWith('*')) errs.push(fieldError.invalid(p.child('hosts').index(i), h, `hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}`));
    });
  if (endpoints.length > 4096) errs.push(fieldError.tooMany(p.child('endpoints'), endpoints.length, 4096));
  endpoints.forEach((e: any, i: number) => {
    const ep = p.child('endpoints').index(i);
    checkAddress(errs, ep, e, resolution === 'STATIC');
    checkEndpointPorts(errs, ep.child('ports'), e.ports, portNames);
    errs.push(...validateLabels(e.labels, ep.child('labels')));
  });
  checkWorkloadSelector(errs, p.child('workloadSelector'), spec.workloadSelector);
  checkExportTo(errs, p.child('exportTo'), spec.exportTo);
  return errs;
}

/** networking.istio.io/v1 ServiceEntry */
export const serviceEntry = defineKind({
  group: 'networking.istio.io',
  version: 'v1',
  servedVersions: istioNetworkingVersions,
  kind: 'ServiceEntry',
  plural: 'serviceentries',
  shortNames: ['se'],
  namespaced: true,
  categories: istioNetworking,
  status: true,
  schema: kindSchema({ spec: serviceEntrySpec, status: any }, ['spec']),
  semantic: validateServiceEntry,
  columns: [nameCol, col('Hosts'), col('Location'), col('Resolution'), ageCol],
  cells: (o, now) => [o.metadata.name, jsonList(o.spec?.hosts), o.spec?.location ?? '', o.spec?.resolution ?? '', age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Configuration affecting service registry. See more details at: https://istio.io/docs/reference/config/networking/service-entry.html',
    'spec.hosts': 'The hosts associated with the ServiceEntry.',
    'spec.addresses': 'The virtual IP addresses associated with the service.',
    'spec.ports': 'The ports associated with the external service.',
    'spec.location': 'Specify whether the service should be considered external to the mesh or part of the mesh.',
    'spec.resolution': 'Service resolution mode for the hosts.',
    'spec.endpoints': 'One or more endpoints associated with the service.',
    'spec.workloadSelector': 'Applicable only for MESH_INTERNAL services.',
    'spec.exportTo': 'A list of namespaces to which this service is exported.',
    'spec.subjectAltNames': 'If specified, the proxy will verify that the server certificate\'s subject alternate name matches one of the specified values.',
  },
});

// ---------------------------------------------------------------------------------------------
// WorkloadEntry

/** networking.istio.io/v1 WorkloadEntry */
export const workloadEntry = defineKind({
  group: 'networking.istio.io',
  version: 'v1',
  servedVersions: istioNetworkingVersions,
  kind: 'WorkloadEntry',
  plural: 'workloadentries',
  shortNames: ['we'],
  namespaced: true,
  categories: istioNetworking,
  status: true,
  schema: kindSchema({ spec: obj(workloadEntrySpec), status: any }, ['spec']),
  semantic(o) {
    const errs: FieldError[] = [];
    const spec = o.spec ?? {};
    const p = Path.root('spec');
    checkAddress(errs, p, spec, false);
    checkEndpointPorts(errs, p.child('ports'), spec.ports);
    errs.push(...validateLabels(spec.labels, p.child('labels')));
    if (typeof spec.serviceAccount === 'string' && spec.serviceAccount.length > 253) errs.push(fieldError.tooLong(p.child('serviceAccount'), spec.serviceAccount, 253));
    return errs;
  },
  columns: [nameCol, ageCol, col('Address')],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now), o.spec?.address ?? ''],
  docs: {
    spec: 'Configuration affecting VMs onboarded into the mesh. See more details at: https://istio.io/docs/reference/config/networking/workload-entry.html',
    'spec.address': 'Address associated with the network endpoint without the port.',
    'spec.ports': 'Set of ports associated with the endpoint.',
  },
});

// ---------------------------------------------------------------------------------------------
// Sidecar

const duration = str;
const connectionPool = obj({
  tcp: obj({ maxConnections: int, connectTimeout: duration, tcpKeepalive: obj({ probes: int, time: duration, interval: duration }), maxConnectionDuration: duration, idleTimeout: duration }),
  http: obj({
    http1MaxPendingRequests: int, http2MaxRequests: int, maxRequestsPerConnection: int, maxRetries: int, idleTimeout: duration,
    h2UpgradePolicy: enm('DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'), useClientProtocol: bool, maxConcurrentStreams: int,
    http2KeepAlive: obj({ interval: duration, timeout: duration }),
  }),
});
const tlsModes = enm('PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL');
const tlsVersions = enm('TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3');
const sidecarTls = obj({
  httpsRedirect: bool, mode: tlsModes, serverCertificate: str, privateKey: str, caCertificates: str, caCrl: str, credentialName: str,
  credentialNames: arr(str), tlsCertificates: arr(obj({ serverCertificate: str, privateKey: str, caCertificates: str })),
  subjectAltNames: arr(str), verifyCertificateSpki: arr(str), verifyCertificateHash: arr(str),
  minProtocolVersion: tlsVersions, maxProtocolVersion: tlsVersions, cipherSuites: arr(str), caCertCredentialName: str, insecureSkipVerify: bool,
});
const captureMode = enm('DEFAULT', 'IPTABLES', 'NONE');
const sidecarPort = obj({ number: int, protocol: str, name: str, targetPort: int });

const sidecarSpec = obj({
  workloadSelector,
  ingress: arr(obj({ port: sidecarPort, bind: str, captureMode, defaultEndpoint: str, tls: sidecarTls, connectionPool }, ['port'])),
  egress: arr(obj({ port: sidecarPort, bind: str, captureMode, hosts: arr(str) }, ['hosts'])),
  inboundConnectionPool: connectionPool,
  outboundTrafficPolicy: obj({ mode: enm('REGISTRY_ONLY', 'ALLOW_ANY'), egressProxy: obj({ host: str, subset: str, port: obj({ number: int }) }, ['host']) }),
});

function checkPool(errs: FieldError[], p: Path, cp: any): void {
  if (!cp) return;
  for (const k of ['connectTimeout', 'maxConnectionDuration']) checkDuration(errs, p.child('tcp', k), cp.tcp?.[k]);
  checkDuration(errs, p.child('tcp', 'tcpKeepalive', 'time'), cp.tcp?.tcpKeepalive?.time);
  checkDuration(errs, p.child('tcp', 'tcpKeepalive', 'interval'), cp.tcp?.tcpKeepalive?.interval);
  checkDuration(errs, p.child('http', 'idleTimeout'), cp.http?.idleTimeout);
  checkDuration(errs, p.child('http', 'http2KeepAlive', 'interval'), cp.http?.http2KeepAlive?.interval);
  checkDuration(errs, p.child('http', 'http2KeepAlive', 'timeout'), cp.http?.http2KeepAlive?.timeout);
}

/** `namespace/host` as Sidecar egress hosts are written (`./*`, `istio-system/*`, `*\/foo.example.com`). */
function checkEgressHost(errs: FieldError[], p: Path, h: string): void {
  const i = h.indexOf('/');
  if (i <= 0 || i === h.length - 1) return void errs.push(fieldError.invalid(p, h, 'sidecar: hosts must be of form namespace/dnsName'));
  const ns = h.slice(0, i);
  const host = h.slice(i + 1);
  if (ns !== '*' && ns !== '.' && ns !== '~' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns))
    errs.push(fieldError.invalid(p, h, 'namespace must be ".", "*", "~" or a namespace name'));
  if (host !== '*') checkHost(errs, p, host, true);
}

function validateSidecar(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  if (!spec.egress && !spec.ingress && !spec.outboundTrafficPolicy && !spec.inboundConnectionPool && !spec.workloadSelector)
    errs.push(fieldError.required(p, 'sidecar: empty configuration provided'));
  checkWorkloadSelector(errs, p.child('workloadSelector'), spec.workloadSelector);
  const ingressPorts = new Set<number>();
  asArr(spec.ingress).forEach((l: any, i: number) => {
    const lp = p.child('ingress').index(i);
    if (!l.port) return; // Required, reported by the schema
    checkPort(errs, lp.child('port', 'number'), l.port.number);
    if (l.port.number === undefined) errs.push(fieldError.required(lp.child('port', 'number')));
    else if (ingressPorts.has(l.port.number)) errs.push(fieldError.duplicate(lp.child('port', 'number'), l.port.number));
    ingressPorts.add(l.port.number);
    checkProtocol(errs, lp.child('port', 'protocol'), l.port.protocol);
    if (l.bind) each(errs, lp.child('bind'), l.bind, ipAddress(l.bind));
    if (l.defaultEndpoint !== undefined && !/^(unix:\/\/.+|(127\.0\.0\.1|0\.0\.0\.0|\[::1\]|\[::\]):[0-9]+)$/.test(l.defaultEndpoint))
      errs.push(fieldError.invalid(lp.child('defaultEndpoint'), l.defaultEndpoint, 'sidecar: defaultEndpoint must be of form 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:port, [::]:port, unix://filepath, or unset'));
    const tls = l.tls;
    if (tls) {
      if (tls.credentialName && tls.credentialNames) errs.push(fieldError.invalid(lp.child('tls'), 'object', 'only one of credentialName or credentialNames can be set'));
      if (tls.credentialNames && tls.tlsCertificates) errs.push(fieldError.invalid(lp.child('tls'), 'object', 'only one of credentialNames or tlsCertificates can be set'));
    }
    checkPool(errs, lp.child('connectionPool'), l.connectionPool);
  });
  const egress = asArr(spec.egress);
  egress.forEach((l: any, i: number) => {
    const lp = p.child('egress').index(i);
    if (l.port) {
      checkPort(errs, lp.child('port', 'number'), l.port.number);
      checkProtocol(errs, lp.child('port', 'protocol'), l.port.protocol);
    } else {
      if (l.bind) errs.push(fieldError.forbidden(lp.child('bind'), 'sidecar: egress listener bind is not allowed without a port'));
      if (i !== egress.length - 1) errs.push(fieldError.invalid(lp, 'object', 'sidecar: the egress listener with empty port should be the last listener in the list'));
    }
    if (l.bind && !l.bind.startsWith('unix://')) each(errs, lp.child('bind'), l.bind, ipAddress(l.bind));
    const hosts = asArr(l.hosts);
    if (hosts.length === 0) errs.push(fieldError.required(lp.child('hosts'), 'sidecar: egress listener must contain at least one host'));
    hosts.forEach((h: string, j: number) => checkEgressHost(errs, lp.child('hosts').index(j), h));
  });
  checkPool(errs, p.child('inboundConnectionPool'), spec.inboundConnectionPool);
  const otp = spec.outboundTrafficPolicy;
  if (otp?.egressProxy) {
    if (otp.mode !== 'ALLOW_ANY') errs.push(fieldError.forbidden(p.child('outboundTrafficPolicy', 'egressProxy'), 'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode'));
    if (otp.egressProxy.host === '') errs.push(fieldError.required(p.child('outboundTrafficPolicy', 'egressProxy', 'host')));
    else checkHost(errs, p.child('outboundTrafficPolicy', 'egressProxy', 'host'), otp.egressProxy.host, false);
    if (otp.egressProxy.port?.number === undefined) errs.push(fieldError.required(p.child('outboundTrafficPolicy', 'egressProxy', 'port', 'number'), 'sidecar: egress_proxy port must be non-zero'));
    else checkPort(errs, p.child('outboundTrafficPolicy', 'egressProxy', 'port', 'number'), otp.egressProxy.port.number);
  }
  return errs;
}

/** networking.istio.io/v1 Sidecar */
export const sidecar = defineKind({
  group: 'networking.istio.io',
  version: 'v1',
  servedVersions: istioNetworkingVersions,
  kind: 'Sidecar',
  plural: 'sidecars',
  namespaced: true,
  categories: istioNetworking,
  status: true,
  schema: kindSchema({ spec: sidecarSpec, status: any }, ['spec']),
  semantic: validateSidecar,
  columns: [nameCol, ageCol],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Configuration affecting network reachability of a sidecar. See more details at: https://istio.io/docs/reference/config/networking/sidecar.html',
    'spec.workloadSelector': 'Criteria used to select the specific set of pods/VMs on which this `Sidecar` configuration should be applied.',
    'spec.ingress': 'Ingress specifies the configuration of the sidecar for processing inbound traffic to the attached workload instance.',
    'spec.egress': 'Egress specifies the configuration of the sidecar for processing outbound traffic from the attached workload instance to other services in the mesh.',
    'spec.egress.hosts': 'One or more service hosts exposed by the listener in `namespace/dnsName` format.',
    'spec.outboundTrafficPolicy': 'Configuration for the outbound traffic policy (REGISTRY_ONLY or ALLOW_ANY).',
    'spec.inboundConnectionPool': 'Settings controlling the volume of connections Envoy will accept from the network.',
  },
});
