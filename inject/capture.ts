// The capture settings of a pod: Istio's `traffic.sidecar.istio.io/*` annotations, validated (bad values
// fail the injection with the annotation named, as Istio's validateAnnotations does), turned into the
// istio-iptables flags of the `istio-init` container. The same flag grammar is parsed back by
// sidecar/init (parseCaptureFlags), so the two ends agree by construction.

/** The ports and UID the proxy uses (Istio's defaults). */
export const PROXY_UID = 1337;
export const OUTBOUND_PORT = 15001;
export const INBOUND_PORT = 15006;
export const HBONE_PORT = 15008;
export const ADMIN_PORT = 15000;
export const STATUS_PORT = 15021;
export const MERGED_METRICS_PORT = 15020;
export const PROMETHEUS_PORT = 15090;

export const ANNOTATIONS = {
  includeOutboundIPRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
} as const;

/** One problem with one annotation (field is the Kubernetes field path). */
export interface CaptureError {
  field: string;
  value: string;
  detail: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `s` is an IPv4 CIDR (a bare address counts as /32, as istio-iptables accepts). */
export function isCidr(s: string): boolean {
  const [ip, len, extra] = s.split('/');
  if (extra !== undefined || !IPV4.test(ip!)) return false;
  return len === undefined || (/^\d{1,2}$/.test(len) && Number(len) <= 32);
}

/** Whether `s` is a port 1-65535. */
export function isPort(s: string): boolean {
  return /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;
}

/** Comma list, trimmed, empties dropped. */
export function splitList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

function check(errs: CaptureError[], key: string, value: string | undefined, item: (s: string) => boolean, what: string, star: boolean): void {
  if (value === undefined) return;
  const v = value.trim();
  if (star && v === '*') return;
  for (const x of splitList(v)) {
    if (!item(x)) errs.push({ field: `metadata.annotations[${key}]`, value, detail: `${JSON.stringify(x)} is not ${what}` });
  }
}

/** Validates the capture annotations; returns every error. */
export function validateCaptureAnnotations(a: Record<string, string> | undefined): CaptureError[] {
  const errs: CaptureError[] = [];
  if (!a) return errs;
  check(errs, ANNOTATIONS.includeOutboundIPRanges, a[ANNOTATIONS.includeOutboundIPRanges], isCidr, 'an IPv4 CIDR', true);
  check(errs, ANNOTATIONS.excludeOutboundIPRanges, a[ANNOTATIONS.excludeOutboundIPRanges], isCidr, 'an IPv4 CIDR', false);
  check(errs, ANNOTATIONS.excludeOutboundPorts, a[ANNOTATIONS.excludeOutboundPorts], isPort, 'a port (1-65535)', false);
  check(errs, ANNOTATIONS.includeInboundPorts, a[ANNOTATIONS.includeInboundPorts], isPort, 'a port (1-65535)', true);
  check(errs, ANNOTATIONS.excludeInboundPorts, a[ANNOTATIONS.excludeInboundPorts], isPort, 'a port (1-65535)', false);
  return errs;
}

/** The istio-init arguments for a pod's annotations (Istio's sidecar template, line by line). */
export function captureArgs(a: Record<string, string> = {}): string[] {
  const get = (k: string, d: string) => (a[k] ?? d).trim();
  const excludeIn = [String(PROMETHEUS_PORT), String(STATUS_PORT), String(MERGED_METRICS_PORT), ...splitList(get(ANNOTATIONS.excludeInboundPorts, ''))];
  const args = [
    '-p', String(OUTBOUND_PORT), '-z', String(INBOUND_PORT), '-u', String(PROXY_UID), '-m', 'REDIRECT',
    '-i', get(ANNOTATIONS.includeOutboundIPRanges, '*'),
    '-x', get(ANNOTATIONS.excludeOutboundIPRanges, ''),
    '-b', get(ANNOTATIONS.includeInboundPorts, '*'),
    '-d', [...new Set(excludeIn)].join(','),
  ];
  if (a[ANNOTATIONS.excludeOutboundPorts] !== undefined) args.push('-o', get(ANNOTATIONS.excludeOutboundPorts, ''));
  return args;
}
