// gateway.networking.k8s.io/v1 GatewayClass, Gateway and HTTPRoute, field for field with the
// Gateway API's apis/v1 types and the defaults its CRDs declare (PathPrefix "/" matches, backend
// weight 1 and kind Service, allowedRoutes from Same, TLS mode Terminate), plus its CEL rules.

import { age } from '../../age.js';
import { isIP } from 'node:net';
import { validateLabelSelector } from '../../labels.js';
import { any, arr, enm, int, map, obj, str } from '../../schema/schema.js';
import { dns1123Subdomain, portNumber, wildcardOrSubdomain } from '../../validation/names.js';
import { type FieldError, Path, asArr, asObj, condition, dupChecker, each, ensureObj, fieldError, immutable, kindSchema, labelSelector, setDefault } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

export const gatewayAPI = ['gateway-api'];
/** GatewayClass, Gateway and HTTPRoute are served at v1 and v1beta1 (one schema; stored as v1). */
const gatewayVersions = ['v1', 'v1beta1'];
const group = 'gateway.networking.k8s.io';
const durationRe = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

export const parentReference = obj({ group: str, kind: str, namespace: str, name: str, sectionName: str, port: int }, ['name']);
const objectRef = obj({ group: str, kind: str, name: str, namespace: str }, ['name']);
export const headerModifier = obj({ set: arr(obj({ name: str, value: str }, ['name', 'value'])), add: arr(obj({ name: str, value: str }, ['name', 'value'])), remove: arr(str) });
const pathModifier = obj({ type: enm('ReplaceFullPath', 'ReplacePrefixMatch'), replaceFullPath: str, replacePrefixMatch: str }, ['type']);
export const backendObjectRef = obj({ group: str, kind: str, name: str, namespace: str, port: int }, ['name']);
const filterTypes = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS', 'ExternalAuth'];
const filterField: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
};
const httpRouteFilter = obj(
  {
    type: enm(...filterTypes),
    requestHeaderModifier: headerModifier,
    responseHeaderModifier: headerModifier,
    requestMirror: obj({ backendRef: backendObjectRef, percent: int, fraction: obj({ numerator: int, denominator: int }, ['numerator']) }, ['backendRef']),
    requestRedirect: obj({ scheme: enm('http', 'https'), hostname: str, path: pathModifier, port: int, statusCode: int }),
    urlRewrite: obj({ hostname: str, path: pathModifier }),
    extensionRef: obj({ group: str, kind: str, name: str }, ['group', 'kind', 'name']),
    cors: any,
    externalAuth: any,
  },
  ['type'],
);
const headerMatch = obj({ type: enm('Exact', 'RegularExpression'), name: str, value: str }, ['name', 'value']);
const httpRouteMatch = obj({
  path: obj({ type: enm('Exact', 'PathPrefix', 'RegularExpression'), value: str }),
  headers: arr(headerMatch),
  queryParams: arr(headerMatch),
  method: enm('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'),
});
const httpRouteRule = obj({
  name: str,
  matches: arr(httpRouteMatch),
  filters: arr(httpRouteFilter),
  backendRefs: arr(obj({ group: str, kind: str, name: str, namespace: str, port: int, weight: int, filters: arr(httpRouteFilter) }, ['name'])),
  timeouts: obj({ request: str, backendRequest: str }),
  retry: obj({ codes: arr(int), attempts: int, backoff: str }),
  sessionPersistence: any,
});
export const routeParentStatus = obj({ parentRef: parentReference, controllerName: str, conditions: arr(condition) }, ['parentRef', 'controllerName']);

// ---------------------------------------------------------------------------------------------
// GatewayClass

function conditionStatus(o: any, type: string): string {
  return asArr(o.status?.conditions).find((c: any) => c.type === type)?.status ?? '';
}

/** gateway.networking.k8s.io/v1 GatewayClass */
export const gatewayClass = defineKind({
  group,
  version: 'v1',
  servedVersions: gatewayVersions,
  kind: 'GatewayClass',
  plural: 'gatewayclasses',
  shortNames: ['gc'],
  namespaced: false,
  categories: gatewayAPI,
  status: true,
  schema: kindSchema({
    spec: obj({ controllerName: str, parametersRef: obj({ group: str, kind: str, name: str, namespace: str }, ['group', 'kind', 'name']), description: str }, ['controllerName']),
    status: obj({ conditions: arr(condition), supportedFeatures: arr(any) }),
  }),
  semantic(o, old) {
    const errs: FieldError[] = [];
    const p = Path.root('spec');
    const c = o.spec.controllerName;
    if (typeof c === 'string' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(c))
      errs.push(fieldError.invalid(p.child('controllerName'), c, 'must be a domain-prefixed path (such as "example.net/gateway-controller")'));
    if (typeof o.spec.description === 'string' && o.spec.description.length > 64) errs.push(fieldError.tooLong(p.child('description'), o.spec.description, 64));
    if (old && old.spec?.controllerName !== c) errs.push(immutable(p.child('controllerName'), c));
    return errs;
  },
  columns: [nameCol, col('Controller'), col('Accepted'), ageCol, col('Description', 'string', true)],
  cells: (o, now) => [o.metadata.name, o.spec?.controllerName ?? '', conditionStatus(o, 'Accepted'), age(o.metadata.creationTimestamp, now), o.spec?.description ?? ''],
  docs: {
    spec: 'Spec defines the desired state of GatewayClass.',
    'spec.controllerName': 'ControllerName is the name of the controller that is managing Gateways of this class.',
    'spec.parametersRef': 'ParametersRef is a reference to a resource that contains the configuration parameters corresponding to the GatewayClass.',
    'spec.description': 'Description helps describe a GatewayClass with more details.',
  },
});

// ---------------------------------------------------------------------------------------------
// Gateway

const listener = obj(
  {
    name: str,
    hostname: str,
    port: int,
    protocol: str,
    tls: obj({
      mode: enm('Terminate', 'Passthrough'),
      certificateRefs: arr(objectRef),
      frontendValidation: any,
      options: map(),
    }),
    allowedRoutes: obj({
      namespaces: obj({ from: enm('All', 'Selector', 'Same'), selector: labelSelector }),
      kinds: arr(obj({ group: str, kind: str }, ['kind'])),
    }),
  },
  ['name', 'port', 'protocol'],
);

const gatewaySpec = obj(
  {
    gatewayClassName: str,
    listeners: arr(listener),
    addresses: arr(obj({ type: str, value: str })),
    infrastructure: obj({ labels: map(), annotations: map(), parametersRef: obj({ group: str, kind: str, name: str }, ['group', 'kind', 'name']) }),
    backendTLS: any,
    allowedListeners: any,
    tls: any,
    defaultScope: str,
  },
  ['gatewayClassName', 'listeners'],
);
const gatewayStatus = obj({
  addresses: arr(obj({ type: str, value: str })),
  conditions: arr(condition),
  listeners: arr(obj({ name: str, supportedKinds: arr(obj({ group: str, kind: str })), attachedRoutes: int, conditions: arr(condition) })),
  attachedListenerSets: int,
});

function defaultGateway(o: Record<string, any>): void {
  for (const l of asArr(asObj(o.spec)?.listeners)) {
    const lo = asObj(l);
    if (!lo) continue;
    const ar = ensureObj(lo, 'allowedRoutes');
    const ns = ar && ensureObj(ar, 'namespaces');
    if (ns) setDefault(ns, 'from', 'Same');
    const tls = asObj(lo.tls);
    if (tls) {
      setDefault(tls, 'mode', 'Terminate');
      for (const r of asArr(tls.certificateRefs)) {
        const ro = asObj(r);
        if (ro) {
          setDefault(ro, 'group', '');
          setDefault(ro, 'kind', 'Secret');
        }
      }
    }
  }
}

const coreProtocols = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'];

function validateGateway(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec;
  const p = Path.root('spec');
  each(errs, p.child('gatewayClassName'), spec.gatewayClassName, spec.gatewayClassName ? dns1123Subdomain(spec.gatewayClassName) : ['must not be empty']);
  const ls = asArr(spec.listeners);
  if (ls.length === 0 || ls.length > 64) errs.push(fieldError.invalid(p.child('listeners'), ls.length, 'must have between 1 and 64 listeners'));
  const names = dupChecker(errs);
  const combos = dupChecker(errs);
  ls.forEach((l: any, i: number) => {
    const lp = p.child('listeners').index(i);
    if (typeof l.name === 'string') {
      each(errs, lp.child('name'), l.name, dns1123Subdomain(l.name));
      names(lp.child('name'), l.name);
    }
    each(errs, lp.child('port'), l.port, portNumber(l.port));
    if (!coreProtocols.includes(l.protocol) && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[a-zA-Z0-9]+$/.test(l.protocol))
      errs.push(fieldError.notSupported(lp.child('protocol'), l.protocol, [...coreProtocols, '<domain>/<protocol>']));
    if (l.hostname !== undefined && l.hostname !== null) {
      if (isIP(l.hostname)) errs.push(fieldError.invalid(lp.child('hostname'), l.hostname, 'must be a DNS name, not an IP address'));
      else each(errs, lp.child('hostname'), l.hostname, wildcardOrSubdomain(l.hostname));
      if (l.protocol === 'TCP' || l.protocol === 'UDP') errs.push(fieldError.forbidden(lp.child('hostname'), 'hostname must not be specified for protocols [\'TCP\', \'UDP\']'));
    }
    if ((l.protocol === 'HTTP' || l.protocol === 'TCP' || l.protocol === 'UDP') && l.tls) errs.push(fieldError.forbidden(lp.child('tls'), `tls must not be specified for protocol ${l.protocol}`));
    if ((l.protocol === 'HTTPS' || l.protocol === 'TLS') && !l.tls) errs.push(fieldError.required(lp.child('tls'), 'tls must be specified for protocols [\'HTTPS\', \'TLS\']'));
    if (l.tls && (l.tls.mode ?? 'Terminate') === 'Terminate' && asArr(l.tls.certificateRefs).length === 0 && !l.tls.options)
      errs.push(fieldError.required(lp.child('tls', 'certificateRefs'), 'certificateRefs or options must be specified when mode is Terminate'));
    if (l.protocol === 'HTTPS' && l.tls?.mode === 'Passthrough') errs.push(fieldError.forbidden(lp.child('tls', 'mode'), 'Passthrough is not allowed for protocol HTTPS'));
    const ns = l.allowedRoutes?.namespaces;
    if (ns?.from === 'Selector' && !ns.selector) errs.push(fieldError.required(lp.child('allowedRoutes', 'namespaces', 'selector'), 'selector must be specified when from is Selector'));
    if (ns?.selector) errs.push(...validateLabelSelector(ns.selector, lp.child('allowedRoutes', 'namespaces', 'selector')));
    combos(lp, `${l.port}/${l.protocol}/${l.hostname ?? ''}`);
  });
  return errs;
}

/** gateway.networking.k8s.io/v1 Gateway */
export const gateway = defineKind({
  group,
  version: 'v1',
  servedVersions: gatewayVersions,
  kind: 'Gateway',
  plural: 'gateways',
  shortNames: ['gtw'],
  namespaced: true,
  categories: gatewayAPI,
  status: true,
  schema: kindSchema({ spec: gatewaySpec, status: gatewayStatus }, ['spec']),
  defaults: defaultGateway,
  semantic: validateGateway,
  columns: [nameCol, col('Class'), col('Address'), col('Programmed'), ageCol],
  cells: (o, now) => [
    o.metadata.name,
    o.spec?.gatewayClassName ?? '',
    asArr(o.status?.addresses).map((a: any) => a.value).join(','),
    conditionStatus(o, 'Programmed'),
    age(o.metadata.creationTimestamp, now),
  ],
  docs: {
    spec: 'Spec defines the desired state of Gateway.',
    'spec.gatewayClassName': 'GatewayClassName used for this Gateway. This is the name of a GatewayClass resource.',
    'spec.listeners': "Listeners associated with this Gateway. Listeners define logical endpoints that are bound on this Gateway's addresses.",
    'spec.addresses': 'Addresses requested for this Gateway.',
  },
});

// ---------------------------------------------------------------------------------------------
// HTTPRoute

function defaultFilters(list: unknown): void {
  for (const f of asArr(list)) {
    const mb = asObj(asObj(asObj(f)?.requestMirror)?.backendRef);
    if (mb) {
      setDefault(mb, 'group', '');
      setDefault(mb, 'kind', 'Service');
    }
  }
}

/** HTTPRoute defaults from the Gateway API CRD, in place. */
export function defaultHTTPRoute(o: Record<string, any>): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  for (const pr of asArr(spec.parentRefs)) {
    const po = asObj(pr);
    if (po) {
      setDefault(po, 'group', group);
      setDefault(po, 'kind', 'Gateway');
    }
  }
  setDefault(spec, 'rules', [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
  for (const r of asArr(spec.rules)) {
    const ro = asObj(r);
    if (!ro) continue;
    setDefault(ro, 'matches', [{ path: { type: 'PathPrefix', value: '/' } }]);
    for (const m of asArr(ro.matches)) {
      const mo = asObj(m);
      if (!mo) continue;
      const path = ensureObj(mo, 'path');
      if (path) {
        setDefault(path, 'type', 'PathPrefix');
        setDefault(path, 'value', '/');
      }
      for (const h of [...asArr(mo.headers), ...asArr(mo.queryParams)]) if (asObj(h)) setDefault(h, 'type', 'Exact');
    }
    for (const b of asArr(ro.backendRefs)) {
      const bo = asObj(b);
      if (!bo) continue;
      setDefault(bo, 'group', '');
      setDefault(bo, 'kind', 'Service');
      setDefault(bo, 'weight', 1);
      defaultFilters(bo.filters);
    }
    defaultFilters(ro.filters);
  }
}

function validateFilters(errs: FieldError[], p: Path, filters: any[]): void {
  const seen = new Set<string>();
  filters.forEach((f: any, i: number) => {
    const fp = p.index(i);

    for (const [t, k] of Object.entries(filterField)) {
      if (t === f.type && !f[k]) errs.push(fieldError.required(fp.child(k), `filter.${k} must be specified for ${t} filter.type`));
      if (t !== f.type && f[k]) errs.push(fieldError.forbidden(fp.child(k), `filter.${k} must be nil if the filter.type is not ${t}`));
    }
    if (f.type !== 'RequestMirror' && f.type !== 'ExtensionRef') {
      if (seen.has(f.type)) errs.push(fieldError.invalid(fp.child('type'), f.type, 'may be specified at most once per rule'));
      seen.add(f.type);
    }
    const rr = f.requestRedirect;
    if (rr?.statusCode !== undefined && rr.statusCode !== 301 && rr.statusCode !== 302)
      errs.push(fieldError.notSupported(fp.child('requestRedirect', 'statusCode'), String(rr.statusCode), ['301', '302']));
    for (const k of ['requestRedirect', 'urlRewrite']) {
      const pm = f[k]?.path;
      if (!pm) continue;
      if (pm.type === 'ReplaceFullPath' && pm.replaceFullPath === undefined) errs.push(fieldError.required(fp.child(k, 'path', 'replaceFullPath')));
      if (pm.type === 'ReplacePrefixMatch' && pm.replacePrefixMatch === undefined) errs.push(fieldError.required(fp.child(k, 'path', 'replacePrefixMatch')));
    }
    const mirror = f.requestMirror;
    if (mirror && typeof mirror.percent === 'number' && (mirror.percent < 0 || mirror.percent > 100))
      errs.push(fieldError.invalid(fp.child('requestMirror', 'percent'), mirror.percent, 'must be between 0 and 100'));
  });
  const types = filters.map((f: any) => f.type);
  if (types.includes('RequestRedirect') && types.includes('URLRewrite'))
    errs.push(fieldError.invalid(p, types, 'may specify either RequestRedirect or URLRewrite, but not both'));
}

function validateHTTPRoute(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  const parents = asArr(spec.parentRefs);
  if (parents.length > 32) errs.push(fieldError.tooMany(p.child('parentRefs'), parents.length, 32));
  parents.forEach((pr: any, i: number) => {
    if (pr.port !== undefined) each(errs, p.child('parentRefs').index(i).child('port'), pr.port, portNumber(pr.port));
  });
  asArr(spec.hostnames).forEach((h: string, i: number) => {
    const hp = p.child('hostnames').index(i);
    if (isIP(h)) errs.push(fieldError.invalid(hp, h, 'must be a DNS name, not an IP address'));
    else each(errs, hp, h, wildcardOrSubdomain(h));
  });
  const rules = asArr(spec.rules);
  if (rules.length > 16) errs.push(fieldError.tooMany(p.child('rules'), rules.length, 16));
  rules.forEach((r: any, i: number) => {
    const rp = p.child('rules').index(i);
    asArr(r.matches).forEach((m: any, j: number) => {
      const mp = rp.child('matches').index(j);
      const path = m.path;
      if (path && path.type !== 'RegularExpression' && typeof path.value === 'string') {
        if (!path.value.startsWith('/')) errs.push(fieldError.invalid(mp.child('path', 'value'), path.value, "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"));
        if (/\/\/|\/\.\.?(\/|$)|%2f|%2F|#/.test(path.value)) errs.push(fieldError.invalid(mp.child('path', 'value'), path.value, "must not contain '//', '/./', '/../', '%2f' or '#'"));
      }
      const hdup = dupChecker(errs);
      asArr(m.headers).forEach((h: any, k: number) => hdup(mp.child('headers').index(k).child('name'), String(h.name).toLowerCase()));
      const qdup = dupChecker(errs);
      asArr(m.queryParams).forEach((q: any, k: number) => qdup(mp.child('queryParams').index(k).child('name'), q.name));
    });
    validateFilters(errs, rp.child('filters'), asArr(r.filters));
    asArr(r.backendRefs).forEach((b: any, j: number) => {
      const bp = rp.child('backendRefs').index(j);
      if (typeof b.weight === 'number' && (b.weight < 0 || b.weight > 1000000)) errs.push(fieldError.invalid(bp.child('weight'), b.weight, 'must be between 0 and 1000000'));
      if ((b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service' && b.port === undefined) errs.push(fieldError.required(bp.child('port'), 'Must have port for Service reference'));
      if (b.port !== undefined) each(errs, bp.child('port'), b.port, portNumber(b.port));
      validateFilters(errs, bp.child('filters'), asArr(b.filters));
    });
    for (const k of ['request', 'backendRequest'])
      if (r.timeouts?.[k] !== undefined && !durationRe.test(r.timeouts[k])) errs.push(fieldError.invalid(rp.child('timeouts', k), r.timeouts[k], "must match '^([0-9]{1,5}(h|m|s|ms)){1,4}$'"));
  });
  return errs;
}

/** gateway.networking.k8s.io/v1 HTTPRoute */
export const httpRoute = defineKind({
  group,
  version: 'v1',
  servedVersions: gatewayVersions,
  kind: 'HTTPRoute',
  plural: 'httproutes',
  namespaced: true,
  categories: gatewayAPI,
  status: true,
  schema: kindSchema({
    spec: obj({ parentRefs: arr(parentReference), hostnames: arr(str), rules: arr(httpRouteRule) }),
    status: obj({ parents: arr(routeParentStatus) }),
  }),
  defaults: defaultHTTPRoute,
  semantic: validateHTTPRoute,
  columns: [nameCol, col('Hostnames'), ageCol],
  cells: (o, now) => [o.metadata.name, asArr(o.spec?.hostnames).length ? JSON.stringify(o.spec.hostnames) : '', age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Spec defines the desired state of HTTPRoute.',
    'spec.parentRefs': 'ParentRefs references the resources (usually Gateways) that a Route wants to be attached to.',
    'spec.hostnames': 'Hostnames defines a set of hostnames that should match against the HTTP Host header to select a HTTPRoute used to process the request.',
    'spec.rules': 'Rules are a list of HTTP matchers, filters and actions.',
    'spec.rules.matches': 'Matches define conditions used for matching the rule against incoming HTTP requests.',
    'spec.rules.filters': 'Filters define the filters that are applied to requests that match this rule.',
    'spec.rules.backendRefs': 'BackendRefs defines the backend(s) where matching requests should be sent.',
    'spec.rules.timeouts': 'Timeouts defines the timeouts that can be configured for an HTTP request.',
  },
});
