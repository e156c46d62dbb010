// The capture rules of a meshed pod as one nftables table, `ip shoal-capture`, generated from
// istio-iptables' settings. Pure: settings in, `nft -f` text out (unit tests compare the text; the kernel
// test runs it in a real network namespace). The table is deleted and re-created in the same
// transaction, so running the init step twice leaves exactly one copy.
//
//   nat OUTPUT (hook output, dstnat priority -100), TCP only:
//     skuid 1337 → return            the proxy's own connections are never captured
//     daddr 127.0.0.0/8 → return     loopback (the app talking to itself, the proxy to the app)
//     dport in -o → return;  daddr in -x → return;  daddr not in -i → return (when -i is not '*')
//     → meta l4proto tcp redirect to :15001           (nothing when -i is empty: outbound capture off)
//   nat PREROUTING (hook prerouting, priority -100), TCP only:
//     dport in {15008, 15090, 15021, 15020, 15000} ∪ -d → return   HBONE, metrics, health, admin
//     dport not in -b → return (when -b is not '*')
//     → meta l4proto tcp redirect to :15006           (nothing when -b is empty: inbound capture off)

/** The table's family and name. */
export const TABLE = 'shoal-capture';
/** Inbound ports never redirected, whatever the flags (HBONE, metrics, health, admin). */
export const ALWAYS_EXCLUDED_INBOUND = [15008, 15090, 15021, 15020, 15000];

/** Parsed istio-iptables settings (see flags.ts). */
export interface CaptureSettings {
  proxyPort: number;
  inboundCapturePort: number;
  proxyUid: number;
  mode: 'REDIRECT';
  /** '*' (all), [] (none) or CIDRs */
  includeOutboundCidrs: '*' | string[];
  excludeOutboundCidrs: string[];
  /** '*' (all), [] (none) or ports */
  includeInboundPorts: '*' | number[];
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
}

const set = (xs: (string | number)[]) => (xs.length === 1 ? String(xs[0]) : `{ ${xs.join(', ')} }`);
const uniq = <T>(xs: T[]) => [...new Set(xs)];

/** The whole transaction text for `nft -f -`. */
export function captureRuleset(s: CaptureSettings): string {
  const out: string[] = [];
  out.push(`    meta l4proto != tcp return`);
  out.push(`    meta skuid ${s.proxyUid} return`);
  out.push(`    ip daddr 127.0.0.0/8 return`);
  if (s.excludeOutboundPorts.length) out.push(`    tcp dport ${set(uniq(s.excludeOutboundPorts))} return`);
  if (s.excludeOutboundCidrs.length) out.push(`    ip daddr ${set(uniq(s.excludeOutboundCidrs))} return`);
  if (s.includeOutboundCidrs !== '*' && s.includeOutboundCidrs.length) out.push(`    ip daddr != ${set(uniq(s.includeOutboundCidrs))} return`);
  if (s.includeOutboundCidrs === '*' || s.includeOutboundCidrs.length) out.push(`    meta l4proto tcp redirect to :${s.proxyPort}`);
  const inb: string[] = [];
  inb.push(`    meta l4proto != tcp return`);
  inb.push(`    tcp dport ${set(uniq([...ALWAYS_EXCLUDED_INBOUND, ...s.excludeInboundPorts]))} return`);
  if (s.includeInboundPorts !== '*' && s.includeInboundPorts.length) inb.push(`    tcp dport != ${set(uniq(s.includeInboundPorts))} return`);
  if (s.includeInboundPorts === '*' || s.includeInboundPorts.length) inb.push(`    meta l4proto tcp redirect to :${s.inboundCapturePort}`);
  return [
    `table ip ${TABLE}`,
    `delete table ip ${TABLE}`,
    `table ip ${TABLE} {`,
    `  chain output {`,
    `    type nat hook output priority -100; policy accept;`,
    ...out,
    `  }`,
    `  chain prerouting {`,
    `    type nat hook prerouting priority -100; policy accept;`,
    ...inb,
    `  }`,
    `}`,
    '',
  ].join('\n');
}
