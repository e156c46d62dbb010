// security.istio.io/v1 PeerAuthentication (mTLS mode per workload and port) and AuthorizationPolicy
// (ALLOW/DENY/AUDIT/CUSTOM rules of sources, operations and conditions), with istiod's checks.

import { age } from '../../age.js';
import { validateLabels } from '../../labels.js';
import { any, arr, enm, map, obj, str } from '../../schema/schema.js';
import { cidr, ipAddress, portNumber } from '../../validation/names.js';
import { type FieldError, Path, asArr, each, fieldError, kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

export const istioSecurity = ['istio-io', 'security-istio-io'];
/** The versions Istio serves security.istio.io kinds at (one schema; stored as v1). */
export const istioSecurityVersions = ['v1', 'v1beta1'];
export const workloadSelector = obj({ matchLabels: map() });
export const policyTargetRef = obj({ group: str, kind: str, name: str, namespace: str }, ['kind', 'name']);
const mtlsMode = enm('UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT');

/** security.istio.io/v1 PeerAuthentication */
export const peerAuthentication = defineKind({
  group: 'security.istio.io',
  version: 'v1',
  servedVersions: istioSecurityVersions,
  kind: 'PeerAuthentication',
  plural: 'peerauthentications',
  shortNames: ['pa'],
  namespaced: true,
  categories: istioSecurity,
  status: true,
  schema: kindSchema({
    spec: obj({ selector: workloadSelector, mtls: obj({ mode: mtlsMode }), portLevelMtls: map(obj({ mode: mtlsMode })) }),
    status: any,
  }),
  semantic(o) {
    const errs: FieldError[] = [];
    const spec = o.spec ?? {};
    const p = Path.root('spec');
    errs.push(...validateLabels(spec.selector?.matchLabels, p.child('selector', 'matchLabels')));
    const ports = Object.keys(spec.portLevelMtls ?? {});
    if (ports.length && Object.keys(spec.selector?.matchLabels ?? {}).length === 0)
      errs.push(fieldError.forbidden(p.child('portLevelMtls'), 'port level mTLS settings require a non-empty workload selector'));
    for (const k of ports) {
      if (!/^[0-9]+$/.test(k)) errs.push(fieldError.invalid(p.child('portLevelMtls'), k, 'port must be a number'));
      else each(errs, p.child('portLevelMtls').key(k), Number(k), portNumber(Number(k)));
    }
    return errs;
  },
  columns: [nameCol, col('Mode'), ageCol],
  cells: (o, now) => [o.metadata.name, o.spec?.mtls?.mode ?? '', age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Peer authentication configuration for workloads. See more details at: https://istio.io/docs/reference/config/security/peer_authentication.html',
    'spec.selector': 'The selector determines the workloads to apply the PeerAuthentication on.',
    'spec.mtls': 'Mutual TLS settings for workload.',
    'spec.portLevelMtls': 'Port specific mutual TLS settings.',
  },
});

const source = obj({
  principals: arr(str),
  notPrincipals: arr(str),
  requestPrincipals: arr(str),
  notRequestPrincipals: arr(str),
  namespaces: arr(str),
  notNamespaces: arr(str),
  ipBlocks: arr(str),
  notIpBlocks: arr(str),
  remoteIpBlocks: arr(str),
  notRemoteIpBlocks: arr(str),
  serviceAccounts: arr(str),
  notServiceAccounts: arr(str),
});
const operation = obj({
  hosts: arr(str),
  notHosts: arr(str),
  ports: arr(str),
  notPorts: arr(str),
  methods: arr(str),
  notMethods: arr(str),
  paths: arr(str),
  notPaths: arr(str),
});
const rule = obj({
  from: arr(obj({ source })),
  to: arr(obj({ operation })),
  when: arr(obj({ key: str, values: arr(str), notValues: arr(str) }, ['key'])),
});

/** Istio's match values: exact, `*`, or one `*` as a prefix or suffix. */
function wildcardValue(v: string): string[] {
  if (v === '') return ['must not be empty'];
  if (/\s/.test(v)) return ['must not contain whitespace'];
  const stars = v.split('*').length - 1;
  if (stars > 1 || (stars === 1 && v !== '*' && !v.startsWith('*') && !v.endsWith('*'))) return ['wildcard * is only supported alone, as a prefix or as a suffix'];
  return [];
}

/** A principal: `<trust-domain>/ns/<ns>/sa/<sa>` (or a wildcard form), never with the spiffe:// scheme. */
function principal(v: string): string[] {
  if (v.startsWith('spiffe://')) return ['must not start with spiffe:// (principals are <trust-domain>/ns/<namespace>/sa/<service-account>)'];
  return wildcardValue(v);
}

/** `when` keys Istio supports, and the check for their values. */
const IP_KEYS = new Set(['source.ip', 'remote.ip', 'destination.ip']);
const CONDITION_KEYS = new Set(['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni']);
function conditionKey(k: string): boolean {
  return CONDITION_KEYS.has(k) || /^request\.headers\[[^\]]+\]$/.test(k) || /^request\.auth\.claims\[[^\]]+\](\[[^\]]+\])*$/.test(k) || /^experimental\.envoy\.filters\.[a-z0-9_.]+\[[^\]]+\]$/.test(k);
}

function validateSource(errs: FieldError[], sp: Path, s: any): void {
  for (const k of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'])
    asArr(s[k]).forEach((b: string, j: number) => each(errs, sp.child(k).index(j), b, b.includes('/') ? cidr(b) : ipAddress(b)));
  for (const k of ['principals', 'notPrincipals'])
    asArr(s[k]).forEach((v: string, j: number) => each(errs, sp.child(k).index(j), v, principal(v)));
  for (const k of ['requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces'])
    asArr(s[k]).forEach((v: string, j: number) => each(errs, sp.child(k).index(j), v, wildcardValue(v)));
  for (const k of ['serviceAccounts', 'notServiceAccounts'])
    asArr(s[k]).forEach((v: string, j: number) => {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) errs.push(fieldError.invalid(sp.child(k).index(j), v, 'must be <namespace>/<service-account>'));
    });
  if ((asArr(s.serviceAccounts).length || asArr(s.notServiceAccounts).length) && (asArr(s.principals).length || asArr(s.notPrincipals).length || asArr(s.namespaces).length || asArr(s.notNamespaces).length))
    errs.push(fieldError.invalid(sp.child('serviceAccounts'), 'object', 'cannot be set with principals or namespaces'));
}

function validateRule(errs: FieldError[], p: Path, r: any): void {
  asArr(r.from).forEach((f: any, i: number) => {
    const sp = p.child('from').index(i).child('source');
    if (!f.source) return void errs.push(fieldError.required(sp));
    if (Object.values(f.source).every((v) => asArr(v).length === 0)) errs.push(fieldError.required(sp, 'source must not be empty'));
    validateSource(errs, sp, f.source);
  });
  asArr(r.to).forEach((t: any, i: number) => {
    const op = p.child('to').index(i).child('operation');
    if (!t.operation) return void errs.push(fieldError.required(op));
    if (Object.values(t.operation).every((v) => asArr(v).length === 0)) errs.push(fieldError.required(op, 'operation must not be empty'));
    for (const k of ['ports', 'notPorts'])
      asArr(t.operation[k]).forEach((pt: string, j: number) => {
        if (!/^[0-9]+$/.test(pt)) errs.push(fieldError.invalid(op.child(k).index(j), pt, 'port must be a number'));
        else each(errs, op.child(k).index(j), pt, portNumber(Number(pt)));
      });
  });
  asArr(r.when).forEach((w: any, i: number) => {
    const wp = p.child('when').index(i);
    if (!w.key) errs.push(fieldError.required(wp.child('key')));
    else if (!conditionKey(w.key)) errs.push(fieldError.invalid(wp.child('key'), w.key, 'unknown attribute (see Istio\'s authorization policy conditions)'));
    if (asArr(w.values).length === 0 && asArr(w.notValues).length === 0) errs.push(fieldError.required(wp.child('values'), 'at least one of values or notValues must be set'));
    for (const k of ['values', 'notValues'])
      asArr(w[k]).forEach((v: string, j: number) => {
        if (IP_KEYS.has(w.key)) each(errs, wp.child(k).index(j), v, v.includes('/') ? cidr(v) : ipAddress(v));
        else if (w.key === 'destination.port') {
          if (!/^[0-9]+$/.test(v)) errs.push(fieldError.invalid(wp.child(k).index(j), v, 'port must be a number'));
          else each(errs, wp.child(k).index(j), v, portNumber(Number(v)));
        }
      });
  });
}

/** security.istio.io/v1 AuthorizationPolicy */
export const authorizationPolicy = defineKind({
  group: 'security.istio.io',
  version: 'v1',
  servedVersions: istioSecurityVersions,
  kind: 'AuthorizationPolicy',
  plural: 'authorizationpolicies',
  shortNames: ['ap'],
  namespaced: true,
  categories: istioSecurity,
  status: true,
  schema: kindSchema({
    spec: obj({
      selector: workloadSelector,
      targetRef: policyTargetRef,
      targetRefs: arr(policyTargetRef),
      rules: arr(rule),
      action: enm('ALLOW', 'DENY', 'AUDIT', 'CUSTOM'),
      provider: obj({ name: str }),
    }),
    status: any,
  }),
  semantic(o) {
    const errs: FieldError[] = [];
    const spec = o.spec ?? {};
    const p = Path.root('spec');
    errs.push(...validateLabels(spec.selector?.matchLabels, p.child('selector', 'matchLabels')));
    [...(spec.targetRef ? [[p.child('targetRef'), spec.targetRef]] : []), ...asArr(spec.targetRefs).map((r: any, i: number) => [p.child('targetRefs').index(i), r])].forEach(([rp, r]: any) => {
      const gk = `${r.group ?? ''}/${r.kind}`;
      if (!['/Service', 'gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/GatewayClass', 'networking.istio.io/ServiceEntry'].includes(gk))
        errs.push(fieldError.notSupported(rp.child('kind'), r.kind, ['Service', 'Gateway', 'GatewayClass', 'ServiceEntry']));
      if (r.namespace && r.namespace !== o.metadata.namespace) errs.push(fieldError.invalid(rp.child('namespace'), r.namespace, 'cross namespace referencing is not currently supported'));
    });
    if (spec.selector && (spec.targetRef || asArr(spec.targetRefs).length))
      errs.push(fieldError.invalid(p.child('targetRef'), 'object', 'only one of targetRefs or workloadSelector can be set'));
    if (spec.action === 'CUSTOM' && !spec.provider?.name) errs.push(fieldError.required(p.child('provider', 'name'), 'must specify a provider for CUSTOM action'));
    if (spec.provider && spec.action !== 'CUSTOM') errs.push(fieldError.forbidden(p.child('provider'), 'provider must only be used with CUSTOM action'));
    if (spec.action === 'AUDIT' || spec.action === 'DENY') {
      if (asArr(spec.rules).length === 0) errs.push(fieldError.required(p.child('rules'), `${spec.action} policy must have at least one rule`));
    }
    asArr(spec.rules).forEach((r: any, i: number) => validateRule(errs, p.child('rules').index(i), r));
    return errs;
  },
  columns: [nameCol, col('Action'), ageCol],
  cells: (o, now) => [o.metadata.name, o.spec?.action ?? '', age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Configuration for access control on workloads. See more details at: https://istio.io/docs/reference/config/security/authorization-policy.html',
    'spec.selector': 'Optional. The selector decides where to apply the authorization policy.',
    'spec.targetRef': 'Optional. The targetRef specifies the gateway the policy should be applied to.',
    'spec.targetRefs': 'Optional. The targetRefs specifies a list of resources the policy should be applied to.',
    'spec.rules': 'Optional. A list of rules to match the request.',
    'spec.action': 'Optional. The action to take if the request is matched with the rules.',
    'spec.provider': 'Specifies detailed configuration of the CUSTOM action.',
    'spec.rules.from': 'Optional. from specifies the source of a request.',
    'spec.rules.to': 'Optional. to specifies the operation of a request.',
    'spec.rules.when': 'Optional. when specifies a list of additional conditions of a request.',
  },
});
