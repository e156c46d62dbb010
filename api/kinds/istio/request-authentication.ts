// security.istio.io RequestAuthentication (JWT rules per workload; served at v1 and v1beta1, stored as
// v1) and telemetry.istio.io Telemetry (access logging, metrics overrides, tracing; served at v1 and
// v1alpha1, stored as v1alpha1 as Istio's CRD does), field for field with Istio's protos, with istiod's
// checks and the CRDs' CEL rules. Schemas and validation only: checking tokens and applying telemetry
// settings belong to the sidecar and ingress filters.

import { age } from '../../age.js';
import { validateLabels } from '../../labels.js';
import { any, arr, bool, enm, map, num, obj, str } from '../../schema/schema.js';
import { type FieldError, Path, asArr, dupChecker, fieldError, kindSchema } from '../common.js';
import { ageCol, defineKind, nameCol } from '../define.js';
import { checkDuration } from './networking.js';
import { istioSecurity, istioSecurityVersions, policyTargetRef, workloadSelector } from './security.js';

/** selector / targetRef / targetRefs, at most one; labels without wildcards; same-namespace refs. */
function checkTargets(errs: FieldError[], p: Path, spec: any): void {
  const set = ['selector', 'targetRef', 'targetRefs'].filter((k) => spec[k] !== undefined);
  if (set.length > 1) errs.push(fieldError.invalid(p.child(set[1]!), 'object', 'only one of targetRefs or selector can be set'));
  const ml = spec.selector?.matchLabels;
  errs.push(...validateLabels(ml, p.child('selector', 'matchLabels')));
  for (const [k, v] of Object.entries(ml ?? {})) {
    if (k.includes('*')) errs.push(fieldError.invalid(p.child('selector', 'matchLabels'), k, 'wildcard not allowed in label key match'));
    if (String(v).includes('*')) errs.push(fieldError.invalid(p.child('selector', 'matchLabels').key(k), v, 'wildcard not allowed in label value match'));
  }
  const refs: [Path, any][] = [];
  if (spec.targetRef) refs.push([p.child('targetRef'), spec.targetRef]);
  asArr(spec.targetRefs).forEach((r: any, i: number) => refs.push([p.child('targetRefs').index(i), r]));
  if (asArr(spec.targetRefs).length > 16) errs.push(fieldError.tooMany(p.child('targetRefs'), spec.targetRefs.length, 16));
  for (const [rp, r] of refs) {
    if (r.namespace) errs.push(fieldError.invalid(rp.child('namespace'), r.namespace, 'cross namespace referencing is not currently supported'));
    if (r.kind !== undefined && !/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(r.kind)) errs.push(fieldError.invalid(rp.child('kind'), r.kind, "must match '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$'"));
    if (r.group !== undefined && r.group !== '' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(r.group))
      errs.push(fieldError.invalid(rp.child('group'), r.group, 'must be a DNS subdomain or empty'));
  }
}

// ---------------------------------------------------------------------------------------------
// RequestAuthentication

const jwtRule = obj({
  issuer: str,
  audiences: arr(str),
  jwksUri: str,
  jwks_uri: str,
  jwks: str,
  fromHeaders: arr(obj({ name: str, prefix: str }, ['name'])),
  fromParams: arr(str),
  fromCookies: arr(str),
  outputPayloadToHeader: str,
  forwardOriginalToken: bool,
  outputClaimToHeaders: arr(obj({ header: str, claim: str }, ['header', 'claim'])),
  timeout: str,
  spaceDelimitedClaims: arr(str),
});

function checkUrl(errs: FieldError[], p: Path, v: unknown): void {
  if (typeof v !== 'string') return;
  let scheme = '';
  try {
    scheme = new URL(v).protocol;
  } catch {
    return void errs.push(fieldError.invalid(p, v, 'url must have scheme http:// or https://'));
  }
  if (scheme !== 'http:' && scheme !== 'https:') errs.push(fieldError.invalid(p, v, 'url must have scheme http:// or https://'));
  if (v.length > 2048) errs.push(fieldError.tooLong(p, v, 2048));
}

function validateRequestAuthentication(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  checkTargets(errs, p, spec);
  const issuers = dupChecker(errs);
  asArr(spec.jwtRules).forEach((r: any, i: number) => {
    const rp = p.child('jwtRules').index(i);
    if (!r.issuer) errs.push(fieldError.required(rp.child('issuer'), 'issuer must be set'));
    else issuers(rp.child('issuer'), r.issuer);
    const keySources = ['jwksUri', 'jwks_uri', 'jwks'].filter((k) => r[k] !== undefined);
    if (keySources.length > 1) errs.push(fieldError.invalid(rp.child(keySources[1]!), 'string', 'only one of jwks or jwksUri can be set'));
    checkUrl(errs, rp.child('jwksUri'), r.jwksUri);
    checkUrl(errs, rp.child('jwks_uri'), r.jwks_uri);
    if (typeof r.jwks === 'string') {
      try {
        const set = JSON.parse(r.jwks);
        if (!Array.isArray(set?.keys)) throw new Error('no keys');
      } catch {
        errs.push(fieldError.invalid(rp.child('jwks'), '(JWKS)', 'must be a JSON Web Key Set ({"keys": [...]})'));
      }
    }
    asArr(r.audiences).forEach((a: string, j: number) => {
      if (a === '') errs.push(fieldError.invalid(rp.child('audiences').index(j), a, 'audience must be non-empty'));
    });
    asArr(r.fromHeaders).forEach((h: any, j: number) => {
      if (h.name === '') errs.push(fieldError.required(rp.child('fromHeaders').index(j).child('name'), 'location header name must be non-empty'));
    });
    asArr(r.fromParams).forEach((q: string, j: number) => {
      if (q === '') errs.push(fieldError.invalid(rp.child('fromParams').index(j), q, 'location query must be non-empty'));
    });
    const headers = dupChecker(errs);
    asArr(r.outputClaimToHeaders).forEach((c: any, j: number) => {
      const cp = rp.child('outputClaimToHeaders').index(j);
      if (typeof c.header !== 'string') return;
      if (!/^[-_A-Za-z0-9]+$/.test(c.header)) errs.push(fieldError.invalid(cp.child('header'), c.header, "must match '^[-_A-Za-z0-9]+$'"));
      else headers(cp.child('header'), c.header.toLowerCase());
      if (c.claim === '') errs.push(fieldError.required(cp.child('claim'), 'claim must be non-empty'));
    });
    if (r.outputPayloadToHeader !== undefined && !/^[-_A-Za-z0-9]+$/.test(r.outputPayloadToHeader))
      errs.push(fieldError.invalid(rp.child('outputPayloadToHeader'), r.outputPayloadToHeader, "must match '^[-_A-Za-z0-9]+$'"));
    checkDuration(errs, rp.child('timeout'), r.timeout);
    if (asArr(r.spaceDelimitedClaims).length > 64) errs.push(fieldError.tooMany(rp.child('spaceDelimitedClaims'), r.spaceDelimitedClaims.length, 64));
  });
  if (asArr(spec.jwtRules).length > 4096) errs.push(fieldError.tooMany(p.child('jwtRules'), spec.jwtRules.length, 4096));
  return errs;
}

/** security.istio.io/v1 RequestAuthentication */
export const requestAuthentication = defineKind({
  group: 'security.istio.io',
  version: 'v1',
  servedVersions: istioSecurityVersions,
  kind: 'RequestAuthentication',
  plural: 'requestauthentications',
  shortNames: ['ra'],
  namespaced: true,
  categories: istioSecurity,
  status: true,
  schema: kindSchema({
    spec: obj({ selector: workloadSelector, targetRef: policyTargetRef, targetRefs: arr(policyTargetRef), jwtRules: arr(jwtRule) }),
    status: any,
  }),
  semantic: validateRequestAuthentication,
  columns: [nameCol, ageCol],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Request authentication configuration for workloads. See more details at: https://istio.io/docs/reference/config/security/request_authentication.html',
    'spec.selector': 'Optional. The selector decides where to apply the request authentication policy.',
    'spec.targetRef': 'Optional. The targetRef specifies the gateway the policy should be applied to.',
    'spec.targetRefs': 'Optional. The targetRefs specifies a list of resources the policy should be applied to.',
    'spec.jwtRules': 'Define the list of JWTs that can be validated at the selected workloads\' proxy.',
    'spec.jwtRules.issuer': 'Identifies the issuer that issued the JWT.',
    'spec.jwtRules.audiences': 'The list of JWT audiences that are allowed to access.',
    'spec.jwtRules.jwksUri': 'URL of the provider\'s public key set to validate signature of the JWT.',
    'spec.jwtRules.jwks': 'JSON Web Key Set of public keys to validate signature of the JWT.',
    'spec.jwtRules.fromHeaders': 'List of header locations from which JWT is expected.',
    'spec.jwtRules.fromParams': 'List of query parameters from which JWT is expected.',
    'spec.jwtRules.outputPayloadToHeader': 'This field specifies the header name to output a successfully verified JWT payload to the backend.',
    'spec.jwtRules.forwardOriginalToken': 'If set to true, the original token will be kept for the upstream request.',
    'spec.jwtRules.outputClaimToHeaders': 'This field specifies a list of operations to copy the claim to HTTP headers on a successfully verified token.',
  },
});

// ---------------------------------------------------------------------------------------------
// Telemetry

const providerRef = obj({ name: str }, ['name']);
const workloadMode = enm('CLIENT_AND_SERVER', 'CLIENT', 'SERVER');
const metricNames = ['ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE', 'TCP_OPENED_CONNECTIONS', 'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES', 'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES'];

const telemetrySpec = obj({
  selector: workloadSelector,
  targetRef: policyTargetRef,
  targetRefs: arr(policyTargetRef),
  tracing: arr(obj({
    match: obj({ mode: workloadMode }),
    providers: arr(providerRef),
    randomSamplingPercentage: num,
    disableSpanReporting: bool,
    customTags: map(obj({
      literal: obj({ value: str }, ['value']),
      environment: obj({ name: str, defaultValue: str }, ['name']),
      header: obj({ name: str, defaultValue: str }, ['name']),
      formatter: obj({ value: str }, ['value']),
    })),
    useRequestIdForTraceSampling: bool,
    enableIstioTags: bool,
    disableContextPropagation: bool,
  })),
  metrics: arr(obj({
    providers: arr(providerRef),
    overrides: arr(obj({
      match: obj({ metric: enm(...metricNames), customMetric: str, mode: workloadMode }),
      disabled: bool,
      tagOverrides: map(obj({ operation: enm('UPSERT', 'REMOVE'), value: str })),
    })),
    reportingInterval: str,
  })),
  accessLogging: arr(obj({
    match: obj({ mode: workloadMode }),
    providers: arr(providerRef),
    disabled: bool,
    filter: obj({ expression: str }),
  })),
});

function validateTelemetry(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const p = Path.root('spec');
  checkTargets(errs, p, spec);
  asArr(spec.tracing).forEach((t: any, i: number) => {
    const tp = p.child('tracing').index(i);
    const pct = t.randomSamplingPercentage;
    if (typeof pct === 'number' && (pct < 0 || pct > 100)) errs.push(fieldError.invalid(tp.child('randomSamplingPercentage'), pct, 'must be in range [0.0, 100.0]'));
    for (const [name, tag] of Object.entries<any>(t.customTags ?? {})) {
      const set = ['literal', 'environment', 'header', 'formatter'].filter((k) => tag[k] !== undefined);
      if (set.length > 1) errs.push(fieldError.invalid(tp.child('customTags').key(name), set.join(','), 'only one of literal, environment, header or formatter may be set'));
    }
  });
  asArr(spec.metrics).forEach((m: any, i: number) => {
    const mp = p.child('metrics').index(i);
    checkDuration(errs, mp.child('reportingInterval'), m.reportingInterval);
    asArr(m.overrides).forEach((ov: any, j: number) => {
      const op = mp.child('overrides').index(j);
      if (ov.match?.metric !== undefined && ov.match?.customMetric !== undefined)
        errs.push(fieldError.invalid(op.child('match'), 'object', 'only one of metric or customMetric may be set'));
      for (const [tag, to] of Object.entries<any>(ov.tagOverrides ?? {})) {
        const tp = op.child('tagOverrides').key(tag);
        if (!to) continue;
        if (to.operation === 'UPSERT' && !to.value) errs.push(fieldError.required(tp.child('value'), 'value must be set when operation is UPSERT'));
        if (to.operation === 'REMOVE' && to.value !== undefined) errs.push(fieldError.forbidden(tp.child('value'), 'value must not be set when operation is REMOVE'));
      }
    });
  });
  asArr(spec.accessLogging).forEach((a: any, i: number) => {
    if (a.filter && typeof a.filter.expression === 'string' && a.filter.expression.trim() === '')
      errs.push(fieldError.required(p.child('accessLogging').index(i).child('filter', 'expression'), 'filter expression must not be empty'));
  });
  return errs;
}

/** telemetry.istio.io/v1 Telemetry (stored as v1alpha1, as Istio's CRD stores it) */
export const telemetry = defineKind({
  group: 'telemetry.istio.io',
  version: 'v1',
  servedVersions: ['v1', 'v1alpha1'],
  storageVersion: 'v1alpha1',
  kind: 'Telemetry',
  plural: 'telemetries',
  shortNames: ['telemetry'],
  namespaced: true,
  categories: ['istio-io', 'telemetry-istio-io'],
  status: true,
  schema: kindSchema({
    spec: telemetrySpec,
    status: any,
  }),
  semantic: validateTelemetry,
  columns: [nameCol, ageCol],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  docs: {
    spec: 'Telemetry configuration for workloads. See more details at: https://istio.io/docs/reference/config/telemetry.html',
    'spec.tracing': 'Optional. Tracing configures the tracing behavior for all selected workloads.',
    'spec.tracing.randomSamplingPercentage': 'Controls the rate at which traffic will be selected for tracing if no prior sampling decision has been made.',
    'spec.metrics': 'Optional. Metrics configures the metrics behavior for all selected workloads.',
    'spec.metrics.overrides': 'Optional. Ordered list of overrides to metrics generation behavior.',
    'spec.accessLogging': 'Optional. AccessLogging configures the access logging behavior for all selected workloads.',
  },
});
