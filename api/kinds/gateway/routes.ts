// gateway.networking.k8s.io GRPCRoute (v1), TCPRoute and TLSRoute (v1alpha2, the experimental channel)
// and ReferenceGrant (v1 and v1beta1, stored as v1beta1 as its CRD does), field for field with the
// Gateway API's Go types, with the defaults and CEL rules of their CRDs. Schemas and validation only:
// routing by them and honouring grants is the ingress's and the mesh's.

import { isIP } from 'node:net';
import { age } from '../../age.js';
import { any, arr, enm, int, obj, str } from '../../schema/schema.js';
import { portNumber, wildcardOrSubdomain } from '../../validation/names.js';
import { type FieldError, Path, asArr, asObj, each, ensureObj, fieldError, kindSchema, setDefault } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';
import { backendObjectRef, gatewayAPI, headerModifier, parentReference, routeParentStatus } from './gateway-api.js';

const group = 'gateway.networking.k8s.io';
const groupRe = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const kindRe = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const namespaceRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const sectionRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const headerNameRe = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

const routeStatus = obj({ parents: arr(routeParentStatus) });
const backendRef = { group: str, kind: str, name: str, namespace: str, port: int, weight: int };

// ---------------------------------------------------------------------------------------------
// Shared checks

function checkRefFields(errs: FieldError[], p: Path, r: any): void {
  if (r.group !== undefined && !groupRe.test(r.group)) errs.push(fieldError.invalid(p.child('group'), r.group, `must match '${groupRe.source}'`));
  if (r.kind !== undefined && !kindRe.test(r.kind)) errs.push(fieldError.invalid(p.child('kind'), r.kind, `must match '${kindRe.source}'`));
  if (r.namespace !== undefined && !namespaceRe.test(r.namespace)) errs.push(fieldError.invalid(p.child('namespace'), r.namespace, `must match '${namespaceRe.source}'`));
  if (r.name === '') errs.push(fieldError.invalid(p.child('name'), r.name, 'should be at least 1 chars long'));
  if (typeof r.name === 'string' && r.name.length > 253) errs.push(fieldError.tooLong(p.child('name'), r.name, 253));
}

/** parentRefs: at most 32, fields by pattern, and the CRDs' two uniqueness rules. */
function checkParentRefs(errs: FieldError[], p: Path, refs: any[]): void {
  if (refs.length > 32) errs.push(fieldError.tooMany(p, refs.length, 32));
  const key = (r: any) => `${r.group ?? group}/${r.kind ?? 'Gateway'}/${r.namespace ?? ''}/${r.name}`;
  const seen = new Map<string, any[]>();
  refs.forEach((r: any, i: number) => {
    const rp = p.index(i);
    checkRefFields(errs, rp, r);
    if (r.sectionName !== undefined && !sectionRe.test(r.sectionName)) errs.push(fieldError.invalid(rp.child('sectionName'), r.sectionName, `must match '${sectionRe.source}'`));
    if (r.port !== undefined) each(errs, rp.child('port'), r.port, portNumber(r.port));
    seen.set(key(r), [...(seen.get(key(r)) ?? []), r]);
  });
  for (const same of seen.values()) {
    if (same.length < 2) continue;
    if (same.some((r) => !r.sectionName && !r.port)) errs.push(fieldError.invalid(p, 'array', 'sectionName or port must be specified when parentRefs includes 2 or more references to the same parent'));
    else if (new Set(same.map((r) => `${r.sectionName ?? ''}/${r.port ?? 0}`)).size !== same.length)
      errs.push(fieldError.invalid(p, 'array', 'sectionName or port must be unique when parentRefs includes 2 or more references to the same parent'));
  }
}

function checkHostnames(errs: FieldError[], p: Path, hosts: any[]): void {
  if (hosts.length > 16) errs.push(fieldError.tooMany(p, hosts.length, 16));
  hosts.forEach((h: string, i: number) => {
    if (isIP(h)) errs.push(fieldError.invalid(p.index(i), h, 'must be a DNS name, not an IP address'));
    else each(errs, p.index(i), h, wildcardOrSubdomain(h));
  });
}

function checkBackendRefs(errs: FieldError[], p: Path, refs: any[], min: number): void {
  if (refs.length < min) errs.push(fieldError.required(p, `should have at least ${min} items`));
  if (refs.length > 16) errs.push(fieldError.tooMany(p, refs.length, 16));
  refs.forEach((b: any, i: number) => {
    const bp = p.index(i);
    checkRefFields(errs, bp, b);
    if ((b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service' && b.port === undefined) errs.push(fieldError.required(bp.child('port'), 'Must have port for Service reference'));
    if (b.port !== undefined) each(errs, bp.child('port'), b.port, portNumber(b.port));
    if (typeof b.weight === 'number' && (b.weight < 0 || b.weight > 1000000)) errs.push(fieldError.invalid(bp.child('weight'), b.weight, 'must be between 0 and 1000000'));
  });
}

/** Rules: at most 16, names unique and DNS subdomains. */
function checkRuleNames(errs: FieldError[], p: Path, rules: any[]): void {
  if (rules.length > 16) errs.push(fieldError.tooMany(p, rules.length, 16));
  const names = new Set<string>();
  rules.forEach((r: any, i: number) => {
    if (r.name === undefined) return;
    if (!sectionRe.test(r.name)) errs.push(fieldError.invalid(p.index(i).child('name'), r.name, `must match '${sectionRe.source}'`));
    if (names.has(r.name)) errs.push(fieldError.invalid(p, 'array', 'Rule name must be unique within the route'));
    names.add(r.name);
  });
}

function defaultParentRefs(spec: Record<string, any>): void {
  for (const pr of asArr(spec.parentRefs)) {
    const po = asObj(pr);
    if (po) {
      setDefault(po, 'group', group);
      setDefault(po, 'kind', 'Gateway');
    }
  }
}

function defaultBackendRef(b: unknown): void {
  const bo = asObj(b);
  if (!bo) return;
  setDefault(bo, 'group', '');
  setDefault(bo, 'kind', 'Service');
  setDefault(bo, 'weight', 1);
}

// ---------------------------------------------------------------------------------------------
// GRPCRoute

const grpcFilterTypes = ['ResponseHeaderModifier', 'RequestHeaderModifier', 'RequestMirror', 'ExtensionRef'];
const grpcFilterField: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
};
const grpcRouteFilter = obj(
  {
    type: enm(...grpcFilterTypes),
    requestHeaderModifier: headerModifier,
    responseHeaderModifier: headerModifier,
    requestMirror: obj({ backendRef: backendObjectRef, percent: int, fraction: obj({ numerator: int, denominator: int }, ['numerator']) }, ['backendRef']),
    extensionRef: obj({ group: str, kind: str, name: str }, ['group', 'kind', 'name']),
  },
  ['type'],
);
const grpcHeaderMatch = obj({ type: enm('Exact', 'RegularExpression'), name: str, value: str }, ['name', 'value']);
const grpcRouteRule = obj({
  name: str,
  matches: arr(obj({ method: obj({ type: enm('Exact', 'RegularExpression'), service: str, method: str }), headers: arr(grpcHeaderMatch) })),
  filters: arr(grpcRouteFilter),
  backendRefs: arr(obj({ ...backendRef, filters: arr(grpcRouteFilter) }, ['name'])),
  sessionPersistence: any,
});

function checkGrpcFilters(errs: FieldError[], p: Path, filters: any[]): void {
  if (filters.length > 16) errs.push(fieldError.tooMany(p, filters.length, 16));
  const count: Record<string, number> = {};
  filters.forEach((f: any, i: number) => {
    const fp = p.index(i);
    for (const [t, k] of Object.entries(grpcFilterField)) {
      if (t === f.type && !f[k]) errs.push(fieldError.required(fp.child(k), `filter.${k} must be specified for ${t} filter.type`));
      if (t !== f.type && f[k]) errs.push(fieldError.forbidden(fp.child(k), `filter.${k} must be nil if the filter.type is not ${t}`));
    }
    count[f.type] = (count[f.type] ?? 0) + 1;
    for (const k of ['requestHeaderModifier', 'responseHeaderModifier'])
      for (const op of ['set', 'add'])
        asArr(f[k]?.[op]).forEach((h: any, j: number) => {
          if (!headerNameRe.test(h.name)) errs.push(fieldError.invalid(fp.child(k, op).index(j).child('name'), h.name, `must match '${headerNameRe.source}'`));
        });
    const m = f.requestMirror;
    if (m) {
      if (m.percent !== undefined && m.fraction !== undefined) errs.push(fieldError.invalid(fp.child('requestMirror'), 'object', 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter'));
      if (typeof m.percent === 'number' && (m.percent < 0 || m.percent > 100)) errs.push(fieldError.invalid(fp.child('requestMirror', 'percent'), m.percent, 'must be between 0 and 100'));
      if (m.fraction && m.fraction.numerator > (m.fraction.denominator ?? 100)) errs.push(fieldError.invalid(fp.child('requestMirror', 'fraction'), 'object', 'numerator must be less than or equal to denominator'));
      if (m.backendRef && (m.backendRef.group ?? '') === '' && (m.backendRef.kind ?? 'Service') === 'Service' && m.backendRef.port === undefined)
        errs.push(fieldError.required(fp.child('requestMirror', 'backendRef', 'port'), 'Must have port for Service reference'));
    }
  });
  for (const t of ['RequestHeaderModifier', 'ResponseHeaderModifier'])
    if ((count[t] ?? 0) > 1) errs.push(fieldError.invalid(p, 'array', `${t} filter cannot be repeated`));
}

function validateGRPCRoute(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  checkParentRefs(errs, p.child('parentRefs'), asArr(spec.parentRefs));
  checkHostnames(errs, p.child('hostnames'), asArr(spec.hostnames));
  const rules = asArr(spec.rules);
  checkRuleNames(errs, p.child('rules'), rules);
  let matches = 0;
  rules.forEach((r: any, i: number) => {
    const rp = p.child('rules').index(i);
    const ms = asArr(r.matches);
    matches += ms.length;
    if (ms.length > 64) errs.push(fieldError.tooMany(rp.child('matches'), ms.length, 64));
    ms.forEach((m: any, j: number) => {
      const mp = rp.child('matches').index(j);
      const mm = m.method;
      if (mm) {
        if (mm.service === undefined && mm.method === undefined) errs.push(fieldError.required(mp.child('method'), "One or both of 'service' or 'method' must be specified"));
        if ((mm.type ?? 'Exact') === 'Exact') {
          if (mm.service !== undefined && !/^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i.test(mm.service))
            errs.push(fieldError.invalid(mp.child('method', 'service'), mm.service, 'service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)'));
          if (mm.method !== undefined && !/^[A-Za-z_][A-Za-z_0-9]*$/.test(mm.method))
            errs.push(fieldError.invalid(mp.child('method', 'method'), mm.method, 'method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)'));
        }
      }
      const seen = new Set<string>();
      asArr(m.headers).forEach((h: any, k: number) => {
        const hp = mp.child('headers').index(k).child('name');
        if (!headerNameRe.test(h.name)) errs.push(fieldError.invalid(hp, h.name, `must match '${headerNameRe.source}'`));
        if (seen.has(String(h.name).toLowerCase())) errs.push(fieldError.duplicate(hp, h.name));
        seen.add(String(h.name).toLowerCase());
      });
    });
    checkGrpcFilters(errs, rp.child('filters'), asArr(r.filters));
    checkBackendRefs(errs, rp.child('backendRefs'), asArr(r.backendRefs), 0);
    asArr(r.backendRefs).forEach((b: any, j: number) => checkGrpcFilters(errs, rp.child('backendRefs').index(j).child('filters'), asArr(b.filters)));
  });
  if (matches > 128) errs.push(fieldError.invalid(p.child('rules'), matches, 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128'));
  return errs;
}

function defaultGRPCRoute(o: Record<string, any>): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  defaultParentRefs(spec);
  for (const r of asArr(spec.rules)) {
    const ro = asObj(r);
    if (!ro) continue;
    for (const m of asArr(ro.matches)) {
      const mo = asObj(m);
      const method = asObj(mo?.method);
      if (method) setDefault(method, 'type', 'Exact');
      for (const h of asArr(mo?.headers)) if (asObj(h)) setDefault(h, 'type', 'Exact');
    }
    for (const b of asArr(ro.backendRefs)) defaultBackendRef(b);
    for (const f of [...asArr(ro.filters), ...asArr(ro.backendRefs).flatMap((b: any) => asArr(asObj(b)?.filters))]) {
      const mirror = asObj(asObj(f)?.requestMirror);
      const mb = asObj(mirror?.backendRef);
      if (mb) {
        setDefault(mb, 'group', '');
        setDefault(mb, 'kind', 'Service');
      }
      const frac = asObj(mirror?.fraction);
      if (frac) setDefault(frac, 'denominator', 100);
    }
  }
}

/** gateway.networking.k8s.io/v1 GRPCRoute */
export const grpcRoute = defineKind({
  group,
  version: 'v1',
  kind: 'GRPCRoute',
  plural: 'grpcroutes',
  namespaced: true,
  categories: gatewayAPI,
  status: true,
  schema: kindSchema({ spec: obj({ parentRefs: arr(parentReference), hostnames: arr(str), rules: arr(grpcRouteRule), useDefaultGateways: enm('All', 'None') }), status: routeStatus }),
  defaults: defaultGRPCRoute,
  semantic: validateGRPCRoute,
  columns: [nameCol, col('Hostnames'), ageCol],
  cells: (o, now) => [o.metadata.name, asArr(o.spec?.hostnames).length ? JSON.stringify(o.spec.hostnames) : '', age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Spec defines the desired state of GRPCRoute.',
    'spec.parentRefs': 'ParentRefs references the resources (usually Gateways) that a Route wants to be attached to.',
    'spec.hostnames': 'Hostnames defines a set of hostnames to match against the GRPC Host header to select a GRPCRoute to process the request.',
    'spec.rules': 'Rules are a list of GRPC matchers, filters and actions.',
    'spec.rules.matches': 'Matches define conditions used for matching the rule against incoming gRPC requests.',
    'spec.rules.backendRefs': 'BackendRefs defines the backend(s) where matching requests should be sent.',
  },
});

// ---------------------------------------------------------------------------------------------
// TCPRoute and TLSRoute (v1alpha2)

const l4Rule = obj({ name: str, backendRefs: arr(obj(backendRef, ['name'])) });

function validateL4Route(o: any, withHostnames: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  checkParentRefs(errs, p.child('parentRefs'), asArr(spec.parentRefs));
  if (withHostnames) checkHostnames(errs, p.child('hostnames'), asArr(spec.hostnames));
  const rules = asArr(spec.rules);
  if (rules.length === 0) errs.push(fieldError.required(p.child('rules'), 'should have at least 1 items'));
  checkRuleNames(errs, p.child('rules'), rules);
  rules.forEach((r: any, i: number) => checkBackendRefs(errs, p.child('rules').index(i).child('backendRefs'), asArr(r.backendRefs), 1));
  return errs;
}

function defaultL4Route(o: Record<string, any>): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  defaultParentRefs(spec);
  for (const r of asArr(spec.rules)) for (const b of asArr(asObj(r)?.backendRefs)) defaultBackendRef(b);
}

/** gateway.networking.k8s.io/v1alpha2 TCPRoute */
export const tcpRoute = defineKind({
  group,
  version: 'v1alpha2',
  kind: 'TCPRoute',
  plural: 'tcproutes',
  namespaced: true,
  categories: gatewayAPI,
  status: true,
  schema: kindSchema({ spec: obj({ parentRefs: arr(parentReference), rules: arr(l4Rule), useDefaultGateways: enm('All', 'None') }, ['rules']), status: routeStatus }, ['spec']),
  defaults: defaultL4Route,
  semantic: (o) => validateL4Route(o, false),
  columns: [nameCol, ageCol],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Spec defines the desired state of TCPRoute.',
    'spec.parentRefs': 'ParentRefs references the resources (usually Gateways) that a Route wants to be attached to.',
    'spec.rules': 'Rules are a list of TCP matchers and actions.',
  },
});

/** gateway.networking.k8s.io/v1alpha2 TLSRoute */
export const tlsRoute = defineKind({
  group,
  version: 'v1alpha2',
  kind: 'TLSRoute',
  plural: 'tlsroutes',
  namespaced: true,
  categories: gatewayAPI,
  status: true,
  schema: kindSchema({ spec: obj({ parentRefs: arr(parentReference), hostnames: arr(str), rules: arr(l4Rule), useDefaultGateways: enm('All', 'None') }, ['rules']), status: routeStatus }, ['spec']),
  defaults: defaultL4Route,
  semantic: (o) => validateL4Route(o, true),
  columns: [nameCol, ageCol],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Spec defines the desired state of TLSRoute.',
    'spec.hostnames': 'Hostnames defines a set of SNI names that should match against the SNI attribute of TLS ClientHello message in TLS handshake.',
    'spec.rules': 'Rules are a list of TLS matchers and actions.',
  },
});

// ---------------------------------------------------------------------------------------------
// ReferenceGrant

/** gateway.networking.k8s.io/v1 ReferenceGrant (stored as v1beta1) */
export const referenceGrant = defineKind({
  group,
  version: 'v1',
  servedVersions: ['v1', 'v1beta1'],
  storageVersion: 'v1beta1',
  kind: 'ReferenceGrant',
  plural: 'referencegrants',
  shortNames: ['refgrant'],
  namespaced: true,
  categories: gatewayAPI,
  schema: kindSchema({
    spec: obj({
      from: arr(obj({ group: str, kind: str, namespace: str }, ['group', 'kind', 'namespace'])),
      to: arr(obj({ group: str, kind: str, name: str }, ['group', 'kind'])),
    }, ['from', 'to']),
  }, ['spec']),
  semantic(o) {
    const errs: FieldError[] = [];
    const p = Path.root('spec');
    for (const k of ['from', 'to'] as const) {
      const list = asArr(o.spec[k]);
      if (list.length === 0) errs.push(fieldError.required(p.child(k), 'should have at least 1 items'));
      if (list.length > 16) errs.push(fieldError.tooMany(p.child(k), list.length, 16));
      list.forEach((r: any, i: number) => {
        const rp = p.child(k).index(i);
        checkRefFields(errs, rp, r);
        if (r.kind === '') errs.push(fieldError.invalid(rp.child('kind'), r.kind, 'should be at least 1 chars long'));
        if (k === 'from' && r.namespace === '') errs.push(fieldError.invalid(rp.child('namespace'), r.namespace, 'should be at least 1 chars long'));
      });
    }
    return errs;
  },
  columns: [nameCol, ageCol],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Spec defines the desired state of ReferenceGrant.',
    'spec.from': 'From describes the trusted namespaces and kinds that can reference the resources described in "To".',
    'spec.to': 'To describes the resources that may be referenced by the resources described in "From".',
  },
});
