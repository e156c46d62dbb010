// core/v1 Service: schema, defaults (type ClusterIP, TCP, targetPort = port, sessionAffinity None,
// traffic policies, single-stack IPv4), validation (ports, names, types, clusterIP immutability) and
// the kubectl table (TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, wide SELECTOR).

import { age } from '../../age.js';
import { fromSet, toString as selectorString, validateLabels } from '../../labels.js';
import { arr, bool, enm, int, intOrStr, map, obj, str } from '../../schema/schema.js';
import { dns1123Subdomain, ipAddress, portName, portNumber } from '../../validation/names.js';
import { condition } from '../common.js';
import { type FieldError, Path, asArr, asObj, dupChecker, each, ensureObj, fieldError, immutable, kindSchema, setDefault, validatePortNumOrName } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const servicePort = obj(
  { name: str, protocol: enm('TCP', 'UDP', 'SCTP'), appProtocol: str, port: int, targetPort: intOrStr, nodePort: int },
  ['port'],
);

const serviceSpec = obj({
  ports: arr(servicePort),
  selector: map(),
  clusterIP: str,
  clusterIPs: arr(str),
  type: enm('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
  externalIPs: arr(str),
  sessionAffinity: enm('None', 'ClientIP'),
  loadBalancerIP: str,
  loadBalancerSourceRanges: arr(str),
  externalName: str,
  externalTrafficPolicy: enm('Cluster', 'Local'),
  healthCheckNodePort: int,
  publishNotReadyAddresses: bool,
  sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: int }) }),
  ipFamilies: arr(enm('IPv4', 'IPv6')),
  ipFamilyPolicy: enm('SingleStack', 'PreferDualStack', 'RequireDualStack'),
  allocateLoadBalancerNodePorts: bool,
  loadBalancerClass: str,
  internalTrafficPolicy: enm('Cluster', 'Local'),
  trafficDistribution: str,
});

const lbIngress = obj({ ip: str, hostname: str, ipMode: enm('VIP', 'Proxy'), ports: arr(obj({ port: int, protocol: str, error: str })) });
const serviceStatus = obj({ loadBalancer: obj({ ingress: arr(lbIngress) }), conditions: arr(condition) });

/** Service defaults, in place (the API server allocates clusterIP and nodePorts itself). */
export function defaultService(o: Record<string, any>): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  for (const p of asArr(spec.ports)) {
    const po = asObj(p);
    if (!po) continue;
    setDefault(po, 'protocol', 'TCP');
    if (po.targetPort === undefined || po.targetPort === null || po.targetPort === 0 || po.targetPort === '') po.targetPort = po.port;
  }
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    if (spec.ipFamilies === undefined || spec.ipFamilies === null) {
      const ip = Array.isArray(spec.clusterIPs) ? spec.clusterIPs[0] : spec.clusterIP;
      spec.ipFamilies = [typeof ip === 'string' && ip.includes(':') ? 'IPv6' : 'IPv4'];
    }
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = ensureObj(spec, 'sessionAffinityConfig');
    const cip = cfg && ensureObj(cfg, 'clientIP');
    if (cip) setDefault(cip, 'timeoutSeconds', 10800);
  }
}

/**
 * On update, keep what the server allocated when the client left it unset (Kubernetes'
 * patchAllocatedValues): clusterIP(s) while neither side is ExternalName, nodePorts by port+protocol
 * for NodePort/LoadBalancer, healthCheckNodePort. Call before applyDefaults/validate on PUT.
 */
export function patchAllocatedValues(svc: Record<string, any>, old: Record<string, any>): void {
  const spec = asObj(svc.spec);
  const oldSpec = asObj(old.spec);
  if (!spec || !oldSpec) return;
  const type = spec.type ?? 'ClusterIP';
  if (type !== 'ExternalName' && oldSpec.type !== 'ExternalName') {
    if ((spec.clusterIP === undefined || spec.clusterIP === '') && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if ((!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0) && Array.isArray(oldSpec.clusterIPs) && spec.clusterIP === oldSpec.clusterIP)
      spec.clusterIPs = [...oldSpec.clusterIPs];
  }
  if (type === 'NodePort' || type === 'LoadBalancer') {
    const oldPorts = asArr(oldSpec.ports);
    for (const p of asArr(spec.ports)) {
      const po = asObj(p);
      if (!po || po.nodePort) continue;
      const match = oldPorts.find((o: any) => o?.port === po.port && (o?.protocol ?? 'TCP') === (po.protocol ?? 'TCP'));
      if (match?.nodePort) po.nodePort = match.nodePort;
    }
    if (spec.healthCheckNodePort === undefined && oldSpec.healthCheckNodePort) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

function validateService(o: Record<string, any>, old?: Record<string, any>): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  const type = spec.type ?? 'ClusterIP';
  const ports = asArr(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (type === 'ExternalName') {
    if (!spec.externalName) errs.push(fieldError.required(p.child('externalName')));
    else each(errs, p.child('externalName'), spec.externalName, dns1123Subdomain(spec.externalName.replace(/\.$/, '')));
    if (spec.clusterIP && spec.clusterIP !== '') errs.push(fieldError.forbidden(p.child('clusterIP'), 'may not be set for ExternalName services'));
  } else if (ports.length === 0 && !headless) errs.push(fieldError.required(p.child('ports')));
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && spec.clusterIP !== 'None')
    each(errs, p.child('clusterIP'), spec.clusterIP, ipAddress(spec.clusterIP));
  asArr(spec.clusterIPs).forEach((ip: string, i: number) => {
    if (ip !== 'None') each(errs, p.child('clusterIPs').index(i), ip, ipAddress(ip));
  });
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0 && spec.clusterIPs[0] !== spec.clusterIP)
    errs.push(fieldError.invalid(p.child('clusterIPs'), spec.clusterIPs, 'first value must match `clusterIP`'));
  const names = dupChecker(errs);
  const keys = dupChecker(errs);
  ports.forEach((port: any, i: number) => {
    const pp = p.child('ports').index(i);
    if (ports.length > 1 && !port.name) errs.push(fieldError.required(pp.child('name')));
    if (port.name) {
      each(errs, pp.child('name'), port.name, portName(port.name));
      names(pp.child('name'), port.name);
    }
    if (typeof port.port === 'number') each(errs, pp.child('port'), port.port, portNumber(port.port));
    validatePortNumOrName(errs, pp.child('targetPort'), port.targetPort);
    if (typeof port.nodePort === 'number' && port.nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName')
        errs.push(fieldError.forbidden(pp.child('nodePort'), `may not be used when \`type\` is '${type}'`));
      else each(errs, pp.child('nodePort'), port.nodePort, portNumber(port.nodePort));
    }
    keys(pp, `${port.port}/${port.protocol ?? 'TCP'}`);
  });
  errs.push(...validateLabels(spec.selector, p.child('selector')));
  asArr(spec.externalIPs).forEach((ip: string, i: number) => each(errs, p.child('externalIPs').index(i), ip, ipAddress(ip)));
  if (spec.externalTrafficPolicy !== undefined && type !== 'NodePort' && type !== 'LoadBalancer')
    errs.push(fieldError.invalid(p.child('externalTrafficPolicy'), spec.externalTrafficPolicy, 'may only be set when `type` is \'NodePort\' or \'LoadBalancer\''));
  const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (typeof t === 'number' && (t <= 0 || t > 86400))
    errs.push(fieldError.invalid(p.child('sessionAffinityConfig', 'clientIP', 'timeoutSeconds'), t, 'must be greater than 0 and less than 86400'));
  if (spec.sessionAffinity !== 'ClientIP' && spec.sessionAffinityConfig)
    errs.push(fieldError.invalid(p.child('sessionAffinityConfig'), 'object', 'must not be set when session affinity is None'));
  if (spec.ipFamilyPolicy === 'SingleStack' && asArr(spec.ipFamilies).length > 1)
    errs.push(fieldError.invalid(p.child('ipFamilies'), spec.ipFamilies, 'when `ipFamilyPolicy` is SingleStack, must have exactly one entry'));
  if (old) {
    const oldSpec = old.spec ?? {};
    const oldIP = oldSpec.clusterIP;
    const stillAllocated = oldSpec.type !== 'ExternalName' && spec.type !== 'ExternalName';
    if (stillAllocated && typeof oldIP === 'string' && oldIP !== '' && spec.clusterIP !== oldIP) errs.push(immutable(p.child('clusterIP'), spec.clusterIP ?? ''));
    const oldIPs = asArr(oldSpec.clusterIPs);
    if (stillAllocated && oldIPs.length && asArr(spec.clusterIPs)[0] !== oldIPs[0])
      errs.push(fieldError.invalid(p.child('clusterIPs').index(0), spec.clusterIPs ?? [], 'may not change once set'));
  }
  return errs;
}

function externalIP(spec: any, status: any): string {
  const ext = asArr(spec.externalIPs);
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = asArr(status?.loadBalancer?.ingress).map((i: any) => i.ip || i.hostname).filter(Boolean);
      const all = [...lb, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '<none>';
  }
  return '<unknown>';
}

/** `80/TCP,443:30443/TCP`, as kubectl's makePortString. */
export function servicePorts(spec: any): string {
  const ports = asArr(spec.ports).map((p: any) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`));
  return ports.length ? ports.join(',') : '<none>';
}

/** core/v1 Service */
export const service = defineKind({
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  shortNames: ['svc'],
  namespaced: true,
  categories: ['all'],
  status: true,
  nameValidation: 'DNS1035Label',
  schema: kindSchema({ spec: serviceSpec, status: serviceStatus }),
  defaults: defaultService,
  semantic: validateService,
  columns: [nameCol, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), ageCol, col('Selector', 'string', true)],
  cells(o, now) {
    const spec = o.spec ?? {};
    const sel = spec.selector && Object.keys(spec.selector).length ? selectorString(fromSet(spec.selector)) : '<none>';
    return [o.metadata.name, spec.type ?? 'ClusterIP', spec.clusterIP || '<none>', externalIP(spec, o.status), servicePorts(spec), age(o.metadata.creationTimestamp, now), sel];
  },
});
