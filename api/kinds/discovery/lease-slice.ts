// coordination.k8s.io/v1 Lease (leader election, node heartbeats) and discovery.k8s.io/v1
// EndpointSlice (the endpoints controller's scalable output): schemas, checks and kubectl tables.

import { age } from '../../age.js';
import { arr, bool, enm, int, map, obj, str } from '../../schema/schema.js';
import { dns1123Label, ipAddress, dns1123Subdomain, portName, portNumber } from '../../validation/names.js';
import { isIP } from 'node:net';
import { type FieldError, Path, asArr, asObj, dupChecker, each, fieldError, immutable, kindSchema, nonNegative, positive, setDefault } from '../common.js';
import { objectReference } from '../core/endpoints.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

/** coordination.k8s.io/v1 Lease */
export const lease = defineKind({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
  schema: kindSchema({
    spec: obj({
      holderIdentity: str,
      leaseDurationSeconds: int,
      acquireTime: str,
      renewTime: str,
      leaseTransitions: int,
      strategy: str,
      preferredHolder: str,
    }),
  }),
  semantic(o) {
    const errs: FieldError[] = [];
    const p = Path.root('spec');
    positive(errs, p.child('leaseDurationSeconds'), o.spec?.leaseDurationSeconds);
    nonNegative(errs, p.child('leaseTransitions'), o.spec?.leaseTransitions);
    if (o.spec?.preferredHolder && !o.spec?.strategy) errs.push(fieldError.forbidden(p.child('preferredHolder'), 'may only be specified if `strategy` is defined'));
    return errs;
  },
  columns: [nameCol, col('Holder'), ageCol],
  cells: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o.metadata.creationTimestamp, now)],
});

const endpoint = obj(
  {
    addresses: arr(str),
    conditions: obj({ ready: bool, serving: bool, terminating: bool }),
    hostname: str,
    targetRef: objectReference,
    deprecatedTopology: map(),
    nodeName: str,
    zone: str,
    hints: obj({ forZones: arr(obj({ name: str }, ['name'])), forNodes: arr(obj({ name: str }, ['name'])) }),
  },
  ['addresses'],
);

function listMore(list: string[], count: number): string {
  if (count > 3) return `${list.join(',')} + ${count - 3} more...`;
  return list.length ? list.join(',') : '<unset>';
}

/** discovery.k8s.io/v1 EndpointSlice */
export const endpointSlice = defineKind({
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  namespaced: true,
  schema: kindSchema(
    {
      addressType: enm('IPv4', 'IPv6', 'FQDN'),
      endpoints: arr(endpoint),
      ports: arr(obj({ name: str, protocol: enm('TCP', 'UDP', 'SCTP'), port: int, appProtocol: str })),
    },
    ['addressType', 'endpoints'],
  ),
  defaults(o) {
    for (const p of asArr(o.ports)) {
      const po = asObj(p);
      if (po) {
        setDefault(po, 'protocol', 'TCP');
        setDefault(po, 'name', '');
      }
    }
  },
  semantic(o, old) {
    const errs: FieldError[] = [];
    const eps = asArr(o.endpoints);
    if (eps.length > 1000) errs.push(fieldError.tooMany(Path.root('endpoints'), eps.length, 1000));
    eps.forEach((ep: any, i: number) => {
      const p = Path.root('endpoints').index(i);
      const addrs = asArr(ep.addresses);
      if (addrs.length === 0 || addrs.length > 100) errs.push(fieldError.invalid(p.child('addresses'), addrs.length, 'must contain at least 1 and at most 100 addresses'));
      addrs.forEach((a: string, j: number) => {
        const ap = p.child('addresses').index(j);
        if (o.addressType === 'FQDN') each(errs, ap, a, dns1123Subdomain(a));
        else if (o.addressType === 'IPv4' && isIP(a) !== 4) errs.push(fieldError.invalid(ap, a, 'must be a valid IPv4 address'));
        else if (o.addressType === 'IPv6' && isIP(a) !== 6) errs.push(fieldError.invalid(ap, a, 'must be a valid IPv6 address'));
        else if (o.addressType !== 'FQDN') each(errs, ap, a, ipAddress(a));
      });
      if (ep.hostname) each(errs, p.child('hostname'), ep.hostname, dns1123Label(ep.hostname));
      if (ep.nodeName) each(errs, p.child('nodeName'), ep.nodeName, dns1123Subdomain(ep.nodeName));
    });
    const ports = asArr(o.ports);
    if (ports.length > 100) errs.push(fieldError.tooMany(Path.root('ports'), ports.length, 100));
    const names = dupChecker(errs);
    ports.forEach((pt: any, i: number) => {
      const pp = Path.root('ports').index(i);
      if (pt.name) each(errs, pp.child('name'), pt.name, portName(pt.name));
      names(pp.child('name'), pt.name ?? '');
      if (typeof pt.port === 'number') each(errs, pp.child('port'), pt.port, portNumber(pt.port));
    });
    if (old && old.addressType !== o.addressType) errs.push(immutable('addressType', o.addressType));
    return errs;
  },
  columns: [nameCol, col('AddressType'), col('Ports'), col('Endpoints'), ageCol],
  cells: (o, now) => {
    const ports = asArr(o.ports);
    const portList = ports.slice(0, 3).map((p: any) => (p.port !== undefined ? String(p.port) : p.name ? p.name : '*'));
    const addrs = asArr(o.endpoints).flatMap((e: any) => asArr(e.addresses));
    return [
      o.metadata.name,
      o.addressType ?? '',
      listMore(portList, ports.length),
      listMore(addrs.slice(0, 3), addrs.length),
      age(o.metadata.creationTimestamp, now),
    ];
  },
});
