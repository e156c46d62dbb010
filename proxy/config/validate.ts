// Validation of pushed resources before they are applied: a config the proxy cannot apply is NACKed
// with these messages (each names its field path) and the last good config stays in force.
import { isIP } from 'node:net';
import { cidrError } from '../net/cidr.js';
import { validateDestinationRuleL7, validateVirtualServiceL7 } from '../../api/kinds/istio/networking-l7.js';
import type { AuthzPolicy, MeshEndpoints, MeshService, RouteConfig, Workload } from './types.js';

export const PEER_AUTHN_MODES = ['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET', ''] as const;
export const AUTHZ_ACTIONS = ['ALLOW', 'DENY', 'AUDIT'] as const;

function port(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
}

/** Errors of one Service resource, paths under `path`. */
export function validateService(s: MeshService, path: string): string[] {
  const errs: string[] = [];
  if (!s || typeof s !== 'object') return [`${path}: must be an object`];
  if (!s.name) errs.push(`${path}.name: required`);
  if (!s.namespace) errs.push(`${path}.namespace: required`);
  (s.vips ?? []).forEach((v, i) => { if (isIP(v) === 0) errs.push(`${path}.vips[${i}]: ${JSON.stringify(v)} is not an IP address`); });
  (s.ports ?? []).forEach((p, i) => {
    if (!port(p.port)) errs.push(`${path}.ports[${i}].port: must be between 1 and 65535`);
    if (p.targetPort !== undefined && p.targetPort !== 0 && !port(p.targetPort)) errs.push(`${path}.ports[${i}].targetPort: must be between 1 and 65535`);
  });
  return errs;
}

/** Errors of one Endpoints resource. */
export function validateEndpoints(e: MeshEndpoints, path: string): string[] {
  const errs: string[] = [];
  if (!e || typeof e !== 'object') return [`${path}: must be an object`];
  if (!/^[^/]+\/[^/]+$/.test(e.service ?? '')) errs.push(`${path}.service: must be namespace/name`);
  (e.endpoints ?? []).forEach((ep, i) => {
    const p = `${path}.endpoints[${i}]`;
    if (isIP(ep.address) === 0) errs.push(`${p}.address: ${JSON.stringify(ep.address)} is not an IP address`);
    (ep.ports ?? []).forEach((pp, j) => { if (!port(pp.port)) errs.push(`${p}.ports[${j}].port: must be between 1 and 65535`); });
    if (ep.mesh && ep.identity && !ep.identity.startsWith('spiffe://')) errs.push(`${p}.identity: must be a spiffe:// URI`);
  });
  return errs;
}

function validatePolicy(pol: AuthzPolicy, path: string): string[] {
  const errs: string[] = [];
  if (pol.action === 'CUSTOM') {
    errs.push(`${path}.action: CUSTOM (external authorization) is not supported by this proxy`);
  } else if (!(AUTHZ_ACTIONS as readonly string[]).includes(pol.action || 'ALLOW')) {
    errs.push(`${path}.action: unsupported value ${JSON.stringify(pol.action)}: must be one of ALLOW, DENY, AUDIT`);
  }
  (pol.rules ?? []).forEach((r, i) => {
    const rp = `${path}.rules[${i}]`;
    (r.from ?? []).forEach((f, j) => {
      const s = f.source ?? {};
      for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
        (s[field] ?? []).forEach((b, k) => {
          const e = cidrError(b);
          if (e) errs.push(`${rp}.from[${j}].source.${field}[${k}]: ${e}`);
        });
      }
      for (const field of ['serviceAccounts', 'notServiceAccounts'] as const) {
        (s[field] ?? []).forEach((v, k) => {
          if (!/^[^/*]+\/[^/*]+$/.test(String(v))) errs.push(`${rp}.from[${j}].source.${field}[${k}]: ${JSON.stringify(v)} must be namespace/serviceaccount`);
        });
      }
      for (const field of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const) {
        (s[field] ?? []).forEach((v, k) => {
          if (typeof v !== 'string' || v === '') errs.push(`${rp}.from[${j}].source.${field}[${k}]: must be a non-empty string`);
        });
      }
    });
    (r.to ?? []).forEach((t, j) => {
      const o = t.operation ?? {};
      for (const field of ['ports', 'notPorts'] as const) {
        (o[field] ?? []).forEach((v, k) => {
          if (!/^\d{1,5}$/.test(String(v)) || !port(Number(v))) errs.push(`${rp}.to[${j}].operation.${field}[${k}]: ${JSON.stringify(v)} is not a port number`);
        });
      }
    });
    (r.when ?? []).forEach((c, j) => {
      if (!c.key) errs.push(`${rp}.when[${j}].key: required`);
      if (['source.ip', 'remote.ip', 'destination.ip'].includes(c.key)) {
        for (const field of ['values', 'notValues'] as const) {
          (c[field] ?? []).forEach((b, k) => {
            const e = cidrError(b);
            if (e) errs.push(`${rp}.when[${j}].${field}[${k}]: ${e}`);
          });
        }
      }
    });
  });
  return errs;
}

/** Errors of the Workload resource (modes, policies). */
export function validateWorkload(w: Workload, path: string): string[] {
  const errs: string[] = [];
  if (!w || typeof w !== 'object') return [`${path}: must be an object`];
  if (w.ip && isIP(w.ip) === 0) errs.push(`${path}.ip: ${JSON.stringify(w.ip)} is not an IP address`);
  const pa = w.peerAuthentication;
  if (pa) {
    if (!(PEER_AUTHN_MODES as readonly string[]).includes(pa.mode ?? '')) {
      errs.push(`${path}.peerAuthentication.mode: unsupported value ${JSON.stringify(pa.mode)}: must be one of STRICT, PERMISSIVE, DISABLE, UNSET`);
    }
    for (const [k, m] of Object.entries(pa.portModes ?? {})) {
      if (!port(Number(k))) errs.push(`${path}.peerAuthentication.portModes[${k}]: key must be a port number`);
      if (!(PEER_AUTHN_MODES as readonly string[]).includes(m)) {
        errs.push(`${path}.peerAuthentication.portModes[${k}]: unsupported value ${JSON.stringify(m)}: must be one of STRICT, PERMISSIVE, DISABLE, UNSET`);
      }
    }
  }
  (w.authorization ?? []).forEach((p, i) => errs.push(...validatePolicy(p, `${path}.authorization[${i}]`)));
  (w.jwtRules ?? []).forEach((r, i) => {
    if (!r.issuer) errs.push(`${path}.jwtRules[${i}].issuer: required`);
    (r.fromHeaders ?? []).forEach((h, j) => { if (!h.name) errs.push(`${path}.jwtRules[${i}].fromHeaders[${j}].name: required`); });
  });
  if (w.outboundTrafficPolicy && !['ALLOW_ANY', 'REGISTRY_ONLY'].includes(w.outboundTrafficPolicy))
    errs.push(`${path}.outboundTrafficPolicy: unsupported value ${JSON.stringify(w.outboundTrafficPolicy)}: must be one of ALLOW_ANY, REGISTRY_ONLY`);
  return errs;
}

/** The routing kinds a RouteConfig may carry. */
export const ROUTE_KINDS = ['VirtualService', 'DestinationRule', 'HTTPRoute', 'GRPCRoute'] as const;

/**
 * Errors of one RouteConfig: its identity, its spec JSON, and the API's own layer-7 checks (the same
 * functions admission runs, so a config the API accepted is one the proxy applies).
 */
export function validateRouteConfig(r: RouteConfig, path: string): string[] {
  const errs: string[] = [];
  if (!(ROUTE_KINDS as readonly string[]).includes(r.kind)) errs.push(`${path}.kind: unsupported kind ${JSON.stringify(r.kind)} (supported: ${ROUTE_KINDS.join(', ')})`);
  if (!r.name) errs.push(`${path}.name: required`);
  if (!r.namespace) errs.push(`${path}.namespace: required`);
  let spec: unknown;
  try {
    spec = JSON.parse(r.specJson || 'null');
  } catch (e) {
    errs.push(`${path}.specJson: not JSON: ${(e as Error).message}`);
    return errs;
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    errs.push(`${path}.specJson: must be a JSON object`);
    return errs;
  }
  const fe = r.kind === 'VirtualService' ? validateVirtualServiceL7({ spec }) : r.kind === 'DestinationRule' ? validateDestinationRuleL7({ spec }) : [];
  for (const f of fe) errs.push(`${path} (${r.kind} ${r.namespace}/${r.name}): ${f.field}: ${f.detail}`);
  return errs;
}
