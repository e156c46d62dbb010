// core/v1 Endpoints: subsets of addresses and ports, published by the endpoints controller and read
// by the service proxy and DNS. Ports default to TCP; addresses must be IPs; the table shows the first
// three `ip:port` pairs as kubectl does (`10.244.0.5:80,10.244.0.6:80 + 1 more...`).

import { age } from '../../age.js';
import { arr, enm, int, obj, str } from '../../schema/schema.js';
import { ipAddress, portName, portNumber } from '../../validation/names.js';
import { type FieldError, Path, asArr, asObj, each, fieldError, kindSchema, setDefault } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

/** core/v1 ObjectReference */
export const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str });
const address = obj({ ip: str, hostname: str, nodeName: str, targetRef: objectReference }, ['ip']);
const subset = obj({
  addresses: arr(address),
  notReadyAddresses: arr(address),
  ports: arr(obj({ name: str, port: int, protocol: enm('TCP', 'UDP', 'SCTP'), appProtocol: str }, ['port'])),
});

/** `ip:port` list capped at three, as kubectl's formatEndpoints. */
export function formatEndpoints(subsets: any[]): string {
  const out: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addrs = asArr(ss.addresses);
    const ports = asArr(ss.ports);
    const pairs = ports.length === 0 ? addrs.map((a: any) => a.ip) : ports.flatMap((p: any) => addrs.map((a: any) => `${a.ip}:${p.port}`));
    for (const pr of pairs) {
      if (out.length < 3) out.push(pr);
      count++;
    }
  }
  if (count === 0) return '<none>';
  return count > 3 ? `${out.join(',')} + ${count - 3} more...` : out.join(',');
}

/** core/v1 Endpoints */
export const endpoints = defineKind({
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  schema: kindSchema({ subsets: arr(subset) }),
  defaults(o) {
    for (const ss of asArr(o.subsets)) for (const p of asArr(asObj(ss)?.ports)) if (asObj(p)) setDefault(p, 'protocol', 'TCP');
  },
  semantic(o) {
    const errs: FieldError[] = [];
    asArr(o.subsets).forEach((ss: any, i: number) => {
      const sp = Path.root('subsets').index(i);
      for (const which of ['addresses', 'notReadyAddresses'])
        asArr(ss[which]).forEach((a: any, j: number) => each(errs, sp.child(which).index(j).child('ip'), a.ip, ipAddress(a.ip)));
      const ports = asArr(ss.ports);
      ports.forEach((p: any, j: number) => {
        const pp = sp.child('ports').index(j);
        each(errs, pp.child('port'), p.port, portNumber(p.port));
        if (ports.length > 1 && !p.name) errs.push(fieldError.required(pp.child('name')));
        if (p.name) each(errs, pp.child('name'), p.name, portName(p.name));
      });
    });
    return errs;
  },
  columns: [nameCol, col('Endpoints'), ageCol],
  cells: (o, now) => [o.metadata.name, formatEndpoints(asArr(o.subsets)), age(o.metadata.creationTimestamp, now)],
});

