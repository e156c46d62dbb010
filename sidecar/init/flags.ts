// istio-iptables' command line (the subset a REDIRECT-mode sidecar uses), short and long forms:
//   -p --proxy-port                         outbound capture port (15001)
//   -z --inbound-capture-port               inbound capture port (15006)
//   -u --proxy-uid                          the proxy's UID, never captured (1337)
//   -m --istio-inbound-interception-mode    REDIRECT (TPROXY is not supported)
//   -i --istio-service-cidr                 outbound CIDRs to capture: '*', '' (none) or a list
//   -x --istio-service-exclude-cidr         outbound CIDRs not captured
//   -b --istio-inbound-ports                inbound ports to capture: '*', '' (none) or a list
//   -d --istio-local-exclude-ports          inbound ports not captured
//   -o --istio-local-outbound-ports-exclude outbound ports not captured
//   -n --dry-run                            print the ruleset, apply nothing
// Every bad flag is reported (STYLE: exit 64 after naming all of them).

import { isCidr, isPort, splitList } from '../../inject/capture.js';
import type { CaptureSettings } from './rules.js';

/** The parsed command line. */
export interface InitFlags {
  settings: CaptureSettings;
  dryRun: boolean;
}

const LONG: Record<string, string> = {
  '--proxy-port': '-p', '--inbound-capture-port': '-z', '--proxy-uid': '-u', '--istio-inbound-interception-mode': '-m',
  '--istio-service-cidr': '-i', '--istio-service-exclude-cidr': '-x', '--istio-inbound-ports': '-b',
  '--istio-local-exclude-ports': '-d', '--istio-local-outbound-ports-exclude': '-o', '--dry-run': '-n',
};
const VALUED = new Set(['-p', '-z', '-u', '-m', '-i', '-x', '-b', '-d', '-o']);

/** Parses argv (without node and script); returns the settings or every error. */
export function parseInitFlags(argv: string[]): { flags?: InitFlags; errors: string[] } {
  const errors: string[] = [];
  const raw = new Map<string, string>();
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let value: string | undefined;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const flag = LONG[a] ?? a;
    if (flag === '-n') {
      dryRun = true;
      continue;
    }
    if (!VALUED.has(flag)) {
      errors.push(a.startsWith('-') ? `${a}: unknown flag` : `${JSON.stringify(a)}: unexpected argument`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) {
        errors.push(`${a}: needs a value`);
        continue;
      }
      value = argv[++i]!;
    }
    raw.set(flag, value);
  }
  const port = (f: string, d: number): number => {
    const v = raw.get(f);
    if (v === undefined) return d;
    if (!isPort(v.trim())) errors.push(`${f} ${JSON.stringify(v)}: must be a port (1-65535)`);
    return Number(v);
  };
  const uid = (f: string, d: number): number => {
    const v = raw.get(f);
    if (v === undefined) return d;
    if (!/^\d+$/.test(v.trim())) errors.push(`${f} ${JSON.stringify(v)}: must be a numeric UID`);
    return Number(v);
  };
  const ports = (f: string, star: boolean): '*' | number[] => {
    const v = (raw.get(f) ?? (star ? '*' : '')).trim();
    if (star && v === '*') return '*';
    const xs = splitList(v);
    for (const x of xs) if (!isPort(x)) errors.push(`${f} ${JSON.stringify(v)}: ${JSON.stringify(x)} is not a port (1-65535)`);
    return xs.map(Number);
  };
  const cidrs = (f: string, star: boolean): '*' | string[] => {
    const v = (raw.get(f) ?? (star ? '*' : '')).trim();
    if (star && v === '*') return '*';
    const xs = splitList(v);
    for (const x of xs) if (!isCidr(x)) errors.push(`${f} ${JSON.stringify(v)}: ${JSON.stringify(x)} is not an IPv4 CIDR`);
    return xs;
  };
  const mode = raw.get('-m') ?? 'REDIRECT';
  if (mode !== 'REDIRECT') errors.push(`-m ${JSON.stringify(mode)}: only REDIRECT is supported`);
  const settings: CaptureSettings = {
    proxyPort: port('-p', 15001), inboundCapturePort: port('-z', 15006), proxyUid: uid('-u', 1337), mode: 'REDIRECT',
    includeOutboundCidrs: cidrs('-i', true), excludeOutboundCidrs: cidrs('-x', false) as string[],
    includeInboundPorts: ports('-b', true), excludeInboundPorts: ports('-d', false) as number[], excludeOutboundPorts: ports('-o', false) as number[],
  };
  return errors.length ? { errors } : { flags: { settings, dryRun }, errors };
}
