// Sync latency of the nftables backend: N services programmed in one full transaction, then the time from
// one endpoint change to the rules applied (partial transaction), median of 20. Root only; its own table
// `shoal-proxy-bench<rand>` and VIP label, removed at the end. Usage: node dist/bench/service-proxy/sync.js 1000 10000
import { NftProxier } from '../../node/service-proxy/nftables/proxier.js';
import { VipInterface } from '../../node/service-proxy/host/vips.js';
import { realHost } from '../../lib/host/sysctl.js';
import type { ServicePort } from '../../node/service-proxy/model/servicemap.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const rows: string[] = ['| services | full sync ms | one change ms (median of 20) | rule bytes (full) |', '|---|---|---|---|'];
for (const n of sizes.length ? sizes : [1000, 10000]) {
  const suffix = `b${Math.floor(Math.random() * 0xffff).toString(16)}`;
  const proxier = new NftProxier({ table: `shoal-proxy-${suffix}`, nodeName: 'bench', clusterCidr: '10.244.0.0/16', nodePortAddresses: [] }, realHost, new VipInterface(realHost, `shp-${suffix}`));
  try {
    await proxier.init();
    const desired = new Map<string, ServicePort[]>();
    const mk = (i: number, eps: number): ServicePort[] => [{
      id: `bench/s${i}/tcp/80`, svcKey: `bench/s${i}`, protocol: 'TCP', port: 80, clusterIPs: [`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`],
      externalIPs: [], loadBalancerIPs: [], internalLocal: false, externalLocal: false,
      endpoints: Array.from({ length: eps }, (_, k) => ({ ip: `10.244.${(i * 3 + k) >> 8 & 255}.${(i * 3 + k) & 255}`, port: 8080, ready: true, serving: true, terminating: false })),
    }];
    for (let i = 0; i < n; i++) desired.set(`bench/s${i}`, mk(i, 3));
    const t0 = performance.now();
    await proxier.sync(desired, undefined);
    const full = performance.now() - t0;
    const bytes = proxier.last!.ruleBytes;
    const times: number[] = [];
    for (let r = 0; r < 21; r++) {
      const i = Math.floor(Math.random() * n);
      desired.set(`bench/s${i}`, mk(i, 2 + (r % 3)));
      const s = performance.now();
      await proxier.sync(desired, new Set([`bench/s${i}`]));
      if (r > 0) times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    rows.push(`| ${n} | ${full.toFixed(0)} | ${times[10].toFixed(1)} | ${bytes} |`);
  } finally {
    await proxier.close();
  }
}
console.log(rows.join('\n'));
