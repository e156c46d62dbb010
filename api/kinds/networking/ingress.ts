// networking.k8s.io/v1 Ingress and IngressClass: host and path rules with backends, TLS, the
// v1 rule that every path names its pathType (Kubernetes dropped the v1beta1 default), and the
// kubectl tables (Ingress: CLASS HOSTS ADDRESS PORTS AGE; IngressClass: CONTROLLER PARAMETERS AGE).

import { age } from '../../age.js';
import { arr, enm, int, obj, str } from '../../schema/schema.js';
import { dns1035Label, dns1123Subdomain, portName, portNumber, wildcardOrSubdomain } from '../../validation/names.js';
import { isIP } from 'node:net';
import { type FieldError, Path, asArr, each, fieldError, immutable, kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const typedLocalRef = obj({ apiGroup: str, kind: str, name: str }, ['kind', 'name']);
const backend = obj({ service: obj({ name: str, port: obj({ name: str, number: int }) }, ['name']), resource: typedLocalRef });
const lbStatus = obj({ ingress: arr(obj({ ip: str, hostname: str, ports: arr(obj({ port: int, protocol: str, error: str })) })) });

const ingressSpec = obj({
  ingressClassName: str,
  defaultBackend: backend,
  tls: arr(obj({ hosts: arr(str), secretName: str })),
  rules: arr(
    obj({
      host: str,
      http: obj({ paths: arr(obj({ path: str, pathType: enm('Exact', 'Prefix', 'ImplementationSpecific'), backend }, ['backend'])) }, ['paths']),
    }),
  ),
});

function validateBackend(errs: FieldError[], p: Path, b: any): void {
  if (!b) return;
  if (b.service && b.resource) errs.push(fieldError.invalid(p, '', 'cannot set both resource and service backends'));
  else if (!b.service && !b.resource) errs.push(fieldError.invalid(p, '', 'resource or service backend is required'));
  if (b.service) {
    const sp = p.child('service');
    if (typeof b.service.name === 'string') each(errs, sp.child('name'), b.service.name, dns1035Label(b.service.name));
    const port = b.service.port;
    if (!port || (port.name === undefined && port.number === undefined))
      errs.push(fieldError.required(sp.child('port'), 'port name or number is required'));
    else if (port.name !== undefined && port.number !== undefined) errs.push(fieldError.invalid(sp.child('port'), port, 'cannot set both port name & port number'));
    else if (port.name !== undefined) each(errs, sp.child('port', 'name'), port.name, portName(port.name));
    else each(errs, sp.child('port', 'number'), port.number, portNumber(port.number));
  }
}

function validateHost(errs: FieldError[], p: Path, host: string): void {
  if (isIP(host)) errs.push(fieldError.invalid(p, host, 'must be a DNS name, not an IP address'));
  else each(errs, p, host, wildcardOrSubdomain(host));
}

function validateIngress(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  const rules = asArr(spec.rules);
  if (!spec.defaultBackend && rules.length === 0) errs.push(fieldError.invalid(p, 'object', 'either `defaultBackend` or `rules` must be specified'));
  validateBackend(errs, p.child('defaultBackend'), spec.defaultBackend);
  if (spec.ingressClassName) each(errs, p.child('ingressClassName'), spec.ingressClassName, dns1123Subdomain(spec.ingressClassName));
  asArr(spec.tls).forEach((t: any, i: number) =>
    asArr(t.hosts).forEach((h: string, j: number) => each(errs, p.child('tls').index(i).child('hosts').index(j), h, wildcardOrSubdomain(h))),
  );
  rules.forEach((r: any, i: number) => {
    const rp = p.child('rules').index(i);
    if (r.host) validateHost(errs, rp.child('host'), r.host);
    if (!r.http) return;
    const paths = asArr(r.http.paths);
    if (paths.length === 0) errs.push(fieldError.required(rp.child('http', 'paths')));
    paths.forEach((hp: any, j: number) => {
      const pp = rp.child('http', 'paths').index(j);
      if (!hp.pathType) errs.push(fieldError.required(pp.child('pathType'), 'pathType must be specified'));
      if ((hp.pathType === 'Exact' || hp.pathType === 'Prefix') && !String(hp.path ?? '').startsWith('/'))
        errs.push(fieldError.invalid(pp.child('path'), hp.path ?? '', "must be an absolute path"));
      if (hp.pathType === 'ImplementationSpecific' && hp.path && !hp.path.startsWith('/'))
        errs.push(fieldError.invalid(pp.child('path'), hp.path, 'must be an absolute path'));
      if ((hp.pathType === 'Exact' || hp.pathType === 'Prefix') && typeof hp.path === 'string' && /\/\/|\/\.\.?(\/|$)|%2f|%2F/.test(hp.path))
        errs.push(fieldError.invalid(pp.child('path'), hp.path, "must not contain '//', '/./', '/../' or '%2f'"));
      validateBackend(errs, pp.child('backend'), hp.backend);
    });
  });
  return errs;
}

function formatHosts(rules: any[]): string {
  const list: string[] = [];
  let more = false;
  for (const r of rules) {
    if (list.length === 3) more = true;
    if (!more && r.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - 3} more...` : list.join(',');
}

function lbAddresses(st: any): string {
  return asArr(st?.loadBalancer?.ingress).map((i: any) => i.ip || i.hostname).filter(Boolean).join(',');
}

/** networking.k8s.io/v1 Ingress */
export const ingress = defineKind({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  shortNames: ['ing'],
  namespaced: true,
  status: true,
  schema: kindSchema({ spec: ingressSpec, status: obj({ loadBalancer: lbStatus }) }),
  semantic: validateIngress,
  columns: [nameCol, col('Class'), col('Hosts'), col('Address'), col('Ports'), ageCol],
  cells: (o, now) => [
    o.metadata.name,
    o.spec?.ingressClassName || '<none>',
    formatHosts(asArr(o.spec?.rules)),
    lbAddresses(o.status),
    asArr(o.spec?.tls).length ? '80, 443' : '80',
    age(o.metadata.creationTimestamp, now),
  ],
});

/** networking.k8s.io/v1 IngressClass */
export const ingressClass = defineKind({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  namespaced: false,
  schema: kindSchema({
    spec: obj({ controller: str, parameters: obj({ apiGroup: str, kind: str, name: str, scope: enm('Cluster', 'Namespace'), namespace: str }, ['kind', 'name']) }),
  }),
  semantic(o, old) {
    const errs: FieldError[] = [];
    const p = Path.root('spec');
    const c = o.spec?.controller;
    if (typeof c === 'string' && c !== '') {
      if (c.length > 250) errs.push(fieldError.tooLong(p.child('controller'), c, 250));
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[^\s]+$/.test(c)) errs.push(fieldError.invalid(p.child('controller'), c, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    }
    const pr = o.spec?.parameters;
    if (pr) {
      const scope = pr.scope ?? 'Cluster';
      if (scope === 'Namespace' && !pr.namespace) errs.push(fieldError.required(p.child('parameters', 'namespace'), '`parameters.scope` is set to \'Namespace\''));
      if (scope === 'Cluster' && pr.namespace) errs.push(fieldError.forbidden(p.child('parameters', 'namespace'), '`parameters.scope` is set to \'Cluster\''));
    }
    if (old && (old.spec?.controller ?? '') !== (c ?? '')) errs.push(immutable(p.child('controller'), c ?? ''));
    return errs;
  },
  columns: [nameCol, col('Controller'), col('Parameters'), ageCol],
  cells: (o, now) => {
    const pr = o.spec?.parameters;
    const params = pr ? `${pr.kind}${pr.apiGroup ? `.${pr.apiGroup}` : ''}/${pr.name}` : '<none>';
    return [o.metadata.name, o.spec?.controller ?? '', params, age(o.metadata.creationTimestamp, now)];
  },
});
