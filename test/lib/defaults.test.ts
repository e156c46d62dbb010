// lib/defaults: the README table says what defaults.ts says; the ranges and durations parse.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { PATHS, PORTS, RANGES, TIMEOUTS, homeDir } from '../../lib/defaults/defaults.js';
import { firstHost, isIPv4Cidr, cidrHas } from '../../lib/net/ip.js';
import { parseDuration } from '../../lib/time/duration.js';

const root = new URL('../../..', import.meta.url).pathname;

t.test('values are well formed', async (t) => {
  for (const k of ['clusterCidr', 'podCidr', 'serviceCidr'] as const) t.ok(isIPv4Cidr(RANGES[k]), k);
  t.ok(cidrHas(RANGES.clusterCidr, RANGES.podCidr.split('/')[0]!), 'first node range inside the cluster range');
  t.ok(cidrHas(RANGES.serviceCidr, RANGES.clusterDns), 'DNS inside the service range');
  t.equal(firstHost(RANGES.serviceCidr), '10.96.0.1');
  for (const [k, v] of Object.entries(TIMEOUTS)) t.ok(parseDuration(v) !== undefined, `${k}: ${v}`);
  for (const [k, v] of Object.entries(PORTS)) t.ok(Number.isInteger(v) && v > 0 && v < 65536, `${k}: ${v}`);
  t.equal(homeDir(undefined, {}), PATHS.home);
  t.equal(homeDir(undefined, { SHOAL_HOME: '/tmp/x' }), '/tmp/x');
  t.equal(homeDir('/h', { SHOAL_HOME: '/tmp/x' }), '/h');
});

t.test('lib/defaults/README.md table matches defaults.ts', async (t) => {
  const readme = readFileSync(`${root}/lib/defaults/README.md`, 'utf8');
  const all = [...Object.values(RANGES), ...Object.values(PORTS).filter((p) => p !== PORTS.dns).map(String), PATHS.home, PATHS.run, PATHS.cniConfDir, PATHS.cniBinDir];
  for (const v of all) t.match(readme, `\`${v}\``, `README names ${v}`);
});
