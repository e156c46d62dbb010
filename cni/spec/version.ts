// Version handling: which spec versions Shoal speaks, comparing them, and converting a result between
// the 0.3.x/0.4.0 shape (each ip carries `version: "4"|"6"`), 1.0.0 and 1.1.0 (which adds route and
// interface fields). A plugin answers in the version of the config it was given.

import { CniCode, CniError } from './errors.js';
import type { Result } from './types.js';
import { parseCIDR } from '../../lib/net/ip.js';

/** The versions Shoal's plugins and runtime support, oldest first. */
export const supportedVersions = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** The newest version Shoal speaks. */
export const currentVersion = '1.1.0';

/** Compares two dotted versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `v` is a well-formed x.y.z version. */
export function isVersion(v: unknown): v is string {
  return typeof v === 'string' && /^\d+\.\d+\.\d+$/.test(v);
}

/** Throws code 1 unless `v` is one of `supported`. */
export function requireSupported(v: string, supported: readonly string[] = supportedVersions): void {
  if (!supported.includes(v)) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `cniVersion: incompatible CNI versions: config is "${v}", plugin supports [${supported.join(', ')}]`,
    );
  }
}

/** Reads a result of any supported version into the 1.1.0 shape. */
export function parseResult(raw: unknown, field = 'prevResult'): Result {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CniError(CniCode.DecodingFailure, `${field}: must be a JSON object`);
  }
  const r = raw as Record<string, any>;
  const v = r.cniVersion;
  if (!isVersion(v) || compareVersions(v, '0.3.0') < 0) {
    throw new CniError(CniCode.IncompatibleVersion, `${field}.cniVersion: unsupported result version ${JSON.stringify(v)}`);
  }
  const out: Result = { cniVersion: currentVersion };
  if (Array.isArray(r.interfaces)) out.interfaces = r.interfaces.map((i: any) => ({ ...i }));
  if (Array.isArray(r.ips)) {
    out.ips = r.ips.map((ip: any, i: number) => {
      if (typeof ip?.address !== 'string' || !parseCIDR(ip.address)) {
        throw new CniError(CniCode.DecodingFailure, `${field}.ips[${i}].address: invalid CIDR ${JSON.stringify(ip?.address)}`);
      }
      const { version: _v, ...rest } = ip;
      return rest;
    });
  }
  if (Array.isArray(r.routes)) out.routes = r.routes.map((x: any) => ({ ...x }));
  if (r.dns && typeof r.dns === 'object') out.dns = { ...r.dns };
  return out;
}

/** Converts a 1.1.0-shaped result to the wire form of `version`. */
export function convertResult(res: Result, version: string): Record<string, unknown> {
  const base = compareVersions(version, '1.1.0') >= 0;
  const interfaces = res.interfaces?.map((i) => {
    if (base) return { ...i };
    const { mtu: _m, socketPath: _s, pciID: _p, ...rest } = i;
    return rest;
  });
  const routes = res.routes?.map((r) => (base ? { ...r } : { dst: r.dst, ...(r.gw ? { gw: r.gw } : {}) }));
  const legacy = compareVersions(version, '1.0.0') < 0;
  const ips = res.ips?.map((ip) => {
    const fam = parseCIDR(ip.address)?.ip.family ?? 4;
    return legacy ? { version: String(fam), ...ip } : { ...ip };
  });
  const out: Record<string, unknown> = { cniVersion: version };
  if (interfaces) out.interfaces = interfaces;
  out.ips = ips ?? [];
  if (routes) out.routes = routes;
  out.dns = res.dns ?? {};
  return out;
}
