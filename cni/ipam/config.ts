// shoal-ipam configuration: the `ipam` section of a network config, with the semantics of the
// reference host-local plugin. Parsed once into a frozen IpamConfig; every problem is collected with
// its path (`ipam.ranges[0][1].gateway: Invalid value: ...`) and reported together.

import { type FieldError, Path, fieldError } from '../../api/field.js';
import { CniCode, CniError, configError } from '../spec/errors.js';
import {
  type CIDR,
  type IP,
  addIP,
  contains,
  formatIP,
  ipEqual,
  lastOf,
  networkOf,
  parseCIDR,
  parseIP,
} from '../../lib/net/ip.js';
import type { NetConf, Route } from '../spec/types.js';

/** One contiguous range inside a subnet, defaults filled in. */
export interface Range {
  subnet: CIDR;
  start: IP;
  end: IP;
  gateway: IP | undefined;
}

/** A range set: one address is allocated from each set. All ranges share a family. */
export type RangeSet = Range[];

/** The validated IPAM config. */
export interface IpamConfig {
  rangeSets: RangeSet[];
  routes: Route[];
  resolvConf: string | undefined;
  /** The directory holding this network's allocations (dataDir/<network name>). */
  dir: string;
}

/** The reference host-local default data directory. */
export const defaultDataDir = '/var/lib/cni/networks';

const ipamKeys = ['type', 'ranges', 'subnet', 'rangeStart', 'rangeEnd', 'gateway', 'routes', 'resolvConf', 'dataDir', 'name'];
const rangeKeys = ['subnet', 'rangeStart', 'rangeEnd', 'gateway'];

function parseRange(raw: unknown, p: Path, errs: FieldError[]): Range | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    errs.push(fieldError.invalid(p, raw, 'must be an object with a subnet'));
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!rangeKeys.includes(k)) throw new CniError(CniCode.UnsupportedField, `${p.child(k)}: unsupported field (value ${JSON.stringify(r[k])})`);
  if (r.subnet === undefined) {
    errs.push(fieldError.required(p.child('subnet')));
    return undefined;
  }
  const subnet = parseCIDR(r.subnet as string);
  if (!subnet) {
    errs.push(fieldError.invalid(p.child('subnet'), r.subnet, 'must be a CIDR such as 10.244.0.0/24'));
    return undefined;
  }
  const total = subnet.ip.family === 4 ? 32 : 128;
  if (subnet.prefix > total - 2) {
    errs.push(fieldError.invalid(p.child('subnet'), r.subnet, 'network too small to allocate from'));
    return undefined;
  }
  if (!ipEqual(networkOf(subnet), subnet.ip)) {
    errs.push(fieldError.invalid(p.child('subnet'), r.subnet, `network has host bits set; the network address is ${formatIP(networkOf(subnet))}`));
    return undefined;
  }
  const inSubnet = (key: string): IP | undefined => {
    if (r[key] === undefined) return undefined;
    const ip = parseIP(r[key] as string);
    if (!ip) errs.push(fieldError.invalid(p.child(key), r[key], 'must be an IP address'));
    else if (!contains(subnet, ip)) errs.push(fieldError.invalid(p.child(key), r[key], `must be inside subnet ${r.subnet}`));
    else return ip;
    return undefined;
  };
  const gateway = inSubnet('gateway') ?? (r.gateway === undefined ? addIP(networkOf(subnet), 1n) : undefined);
  const start = inSubnet('rangeStart') ?? addIP(networkOf(subnet), 1n);
  const last = lastOf(subnet);
  const end = inSubnet('rangeEnd') ?? (subnet.ip.family === 4 ? addIP(last, -1n) : last);
  if (start.value > end.value) errs.push(fieldError.invalid(p.child('rangeStart'), formatIP(start), `must not be after rangeEnd ${formatIP(end)}`));
  return { subnet, start, end, gateway };
}

function overlapsRange(a: Range, b: Range): boolean {
  return a.start.family === b.start.family && a.start.value <= b.end.value && b.start.value <= a.end.value;
}

/** Validates `conf.ipam`; throws code 7 (or 2 for an unknown field) naming every bad field. */
export function parseIpamConfig(conf: NetConf): IpamConfig {
  const p = Path.root('ipam');
  const ipam = conf.ipam as Record<string, unknown> | undefined;
  if (!ipam || typeof ipam !== 'object') throw configError([fieldError.required(p)]);
  for (const k of Object.keys(ipam)) {
    if (!ipamKeys.includes(k)) throw new CniError(CniCode.UnsupportedField, `${p.child(k)}: unsupported field (value ${JSON.stringify(ipam[k])})`);
  }
  const errs: FieldError[] = [];
  const rangeSets: RangeSet[] = [];
  const legacy = ipam.subnet !== undefined;
  if (legacy && ipam.ranges !== undefined) errs.push(fieldError.forbidden(p.child('subnet'), 'give either ranges or subnet, not both'));
  const rawSets: unknown[] = legacy
    ? [[{ subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway }]]
    : Array.isArray(ipam.ranges)
      ? ipam.ranges
      : [];
  if (!legacy && !Array.isArray(ipam.ranges)) errs.push(fieldError.required(p.child('ranges'), 'at least one range set is required'));
  rawSets.forEach((set, i) => {
    const sp = legacy ? p : p.child('ranges').index(i);
    if (!Array.isArray(set) || set.length === 0) {
      errs.push(fieldError.invalid(sp, set, 'a range set must be a non-empty list of ranges'));
      return;
    }
    const ranges: Range[] = [];
    set.forEach((raw, j) => {
      const rp = legacy ? p : sp.index(j);
      const clean = legacy ? Object.fromEntries(Object.entries(raw as object).filter(([, v]) => v !== undefined)) : raw;
      const r = parseRange(clean, rp, errs);
      if (!r) return;
      if (ranges.length && ranges[0].subnet.ip.family !== r.subnet.ip.family) {
        errs.push(fieldError.invalid(rp.child('subnet'), formatIP(r.subnet.ip), 'a range set mixes IPv4 and IPv6'));
      }
      ranges.forEach((o, k) => {
        if (overlapsRange(o, r)) errs.push(fieldError.invalid(rp, `${formatIP(r.start)}-${formatIP(r.end)}`, `overlaps with ${sp.index(k)}`));
      });
      ranges.push(r);
    });
    rangeSets.forEach((other, k) => {
      for (const a of other) for (const b of ranges) {
        if (overlapsRange(a, b)) errs.push(fieldError.invalid(sp, `${formatIP(b.start)}-${formatIP(b.end)}`, `overlaps with range set ${p.child('ranges').index(k)}`));
      }
    });
    rangeSets.push(ranges);
  });
  const routes: Route[] = [];
  if (ipam.routes !== undefined) {
    if (!Array.isArray(ipam.routes)) errs.push(fieldError.invalid(p.child('routes'), ipam.routes, 'must be a list'));
    else ipam.routes.forEach((r: any, i: number) => {
      const rp = p.child('routes').index(i);
      if (!r || typeof r.dst !== 'string' || !parseCIDR(r.dst)) errs.push(fieldError.invalid(rp.child('dst'), r?.dst, 'must be a CIDR'));
      else if (r.gw !== undefined && !parseIP(r.gw)) errs.push(fieldError.invalid(rp.child('gw'), r.gw, 'must be an IP address'));
      else routes.push({ ...r });
    });
  }
  for (const k of ['resolvConf', 'dataDir'] as const) {
    if (ipam[k] !== undefined && (typeof ipam[k] !== 'string' || ipam[k] === '')) errs.push(fieldError.invalid(p.child(k), ipam[k], 'must be a non-empty path'));
  }
  if (/[/\\]|^\.\.?$/.test(conf.name)) errs.push(fieldError.invalid('name', conf.name, 'must not contain "/" (it names the IPAM data directory)'));
  if (errs.length) throw configError(errs);
  const dataDir = (ipam.dataDir as string | undefined) ?? defaultDataDir;
  return Object.freeze({
    rangeSets,
    routes,
    resolvConf: ipam.resolvConf as string | undefined,
    dir: `${dataDir.replace(/\/+$/, '')}/${conf.name}`,
  });
}

/** The addresses a runtime asked for: runtimeConfig.ips, args.cni.ips, or CNI_ARGS IP=a,b. */
export function requestedIPs(conf: NetConf, cniArgs: Record<string, string>): { ips: IP[]; field: string } {
  const sources: [string, unknown][] = [
    ['runtimeConfig.ips', conf.runtimeConfig?.ips],
    ['args.cni.ips', (conf.args?.cni as Record<string, unknown> | undefined)?.ips],
    ['CNI_ARGS.IP', cniArgs.IP === undefined ? undefined : cniArgs.IP.split(',')],
  ];
  for (const [field, v] of sources) {
    if (v === undefined) continue;
    if (!Array.isArray(v)) throw new CniError(CniCode.InvalidNetworkConfig, `${field}: must be a list of IP addresses`);
    const ips = v.map((s, i) => {
      const ip = parseIP(String(s).split('/')[0]);
      if (!ip) throw new CniError(CniCode.InvalidNetworkConfig, `${field}[${i}]: Invalid value: ${JSON.stringify(s)}: must be an IP address`);
      return ip;
    });
    if (ips.length) return { ips, field };
  }
  return { ips: [], field: '' };
}
