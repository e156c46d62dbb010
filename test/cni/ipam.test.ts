// shoal-ipam without the kernel: config validation (codes and field paths), round-robin allocation,
// requested addresses, exhaustion, GC and STATUS over the MemoryStore fake, and the on-disk format
// (host-local's) over DiskStore in a temporary directory.

import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIpamConfig } from '../../cni/ipam/config.js';
import { makeIpamPlugin } from '../../cni/ipam/plugin.js';
import { MemoryStore } from '../../cni/ipam/store.js';
import { dispatch } from '../../cni/skel/skel.js';
import { CniError } from '../../cni/spec/errors.js';
import type { NetConf } from '../../cni/spec/types.js';

const conf = (ipam: Record<string, unknown>, extra: Record<string, unknown> = {}): NetConf =>
  ({ cniVersion: '1.1.0', name: 'net1', type: 'shoal-ipam', ipam: { type: 'shoal-ipam', ...ipam }, ...extra }) as NetConf;

t.test('config errors name the field and carry the right code', async (t) => {
  const rows: { name: string; ipam: Record<string, unknown>; code: number; msg: RegExp }[] = [
    { name: 'gateway outside subnet', ipam: { ranges: [[{ subnet: '10.99.0.0/24', gateway: '10.99.1.1' }]] }, code: 7, msg: /ipam\.ranges\[0\]\[0\]\.gateway: Invalid value: "10\.99\.1\.1": must be inside subnet/ },
    { name: 'overlap in a set', ipam: { ranges: [[{ subnet: '10.99.0.0/24' }, { subnet: '10.99.0.0/25' }]] }, code: 7, msg: /ipam\.ranges\[0\]\[1\].*overlaps with ipam\.ranges\[0\]\[0\]/ },
    { name: 'overlap across sets', ipam: { ranges: [[{ subnet: '10.99.0.0/24' }], [{ subnet: '10.99.0.128/25' }]] }, code: 7, msg: /ipam\.ranges\[1\].*overlaps with range set ipam\.ranges\[0\]/ },
    { name: 'unknown ipam field', ipam: { ranges: [[{ subnet: '10.99.0.0/24' }]], color: 'red' }, code: 2, msg: /ipam\.color: unsupported field/ },
    { name: 'unknown range field', ipam: { ranges: [[{ subnet: '10.99.0.0/24', foo: 1 }]] }, code: 2, msg: /ipam\.ranges\[0\]\[0\]\.foo/ },
    { name: 'bad subnet', ipam: { ranges: [[{ subnet: '10.99.0.0/33' }]] }, code: 7, msg: /ipam\.ranges\[0\]\[0\]\.subnet: Invalid value/ },
    { name: 'host bits', ipam: { ranges: [[{ subnet: '10.99.0.1/24' }]] }, code: 7, msg: /host bits set/ },
    { name: 'mixed families', ipam: { ranges: [[{ subnet: '10.99.0.0/24' }, { subnet: 'fd00::/64' }]] }, code: 7, msg: /mixes IPv4 and IPv6/ },
    { name: 'no ranges', ipam: {}, code: 7, msg: /ipam\.ranges: Required value: at least one range set/ },
    { name: 'start after end', ipam: { ranges: [[{ subnet: '10.99.0.0/24', rangeStart: '10.99.0.9', rangeEnd: '10.99.0.3' }]] }, code: 7, msg: /rangeStart.*must not be after rangeEnd/ },
    { name: 'bad route', ipam: { ranges: [[{ subnet: '10.99.0.0/24' }]], routes: [{ dst: 'x' }] }, code: 7, msg: /ipam\.routes\[0\]\.dst/ },
  ];
  for (const r of rows) {
    const err = (() => {
      try {
        parseIpamConfig(conf(r.ipam));
      } catch (e) {
        return e as CniError;
      }
      return undefined;
    })();
    t.ok(err instanceof CniError, `${r.name}: throws a CniError`);
    t.equal(err?.code, r.code, `${r.name}: code`);
    t.match(err?.message ?? '', r.msg, `${r.name}: message`);
  }
  const c = parseIpamConfig(conf({ subnet: '10.99.0.0/24' }));
  t.same(
    [c.rangeSets[0][0].start.value & 0xffn, c.rangeSets[0][0].end.value & 0xffn, c.rangeSets[0][0].gateway!.value & 0xffn],
    [1n, 254n, 1n],
    'legacy subnet form: host-local defaults .1-.254, gateway .1',
  );
  t.equal(c.dir, '/var/lib/cni/networks/net1');
});

async function run(plugin: ReturnType<typeof makeIpamPlugin>, cmd: string, id: string, c: NetConf, args = '') {
  let out = '';
  const code = await dispatch(plugin, {
    env: { CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/bin', CNI_ARGS: args },
    stdin: JSON.stringify(c),
    stdout: (s) => (out += s),
    stderr: () => undefined,
  });
  return { code, json: out ? JSON.parse(out) : undefined };
}

t.test('allocation: round-robin, gateway skipped, requested, exhaustion, GC, STATUS', async (t) => {
  const store = new MemoryStore();
  const p = makeIpamPlugin(() => store);
  const c = conf({ ranges: [[{ subnet: '10.99.0.0/29' }]], routes: [{ dst: '0.0.0.0/0' }] });
  const a = await run(p, 'ADD', 'a', c);
  t.same(a.json.ips, [{ address: '10.99.0.2/29', gateway: '10.99.0.1' }], 'first address after the gateway');
  t.same(a.json.routes, [{ dst: '0.0.0.0/0' }]);
  const b = await run(p, 'ADD', 'b', c);
  t.equal(b.json.ips[0].address, '10.99.0.3/29');
  t.equal((await run(p, 'ADD', 'a', c)).json.ips[0].address, '10.99.0.2/29', 'same container gets its address again');
  await run(p, 'DEL', 'a', c);
  t.equal((await run(p, 'ADD', 'c', c)).json.ips[0].address, '10.99.0.4/29', 'round-robin does not reuse .2 at once');
  const req = await run(p, 'ADD', 'r', c, 'IP=10.99.0.6');
  t.equal(req.json.ips[0].address, '10.99.0.6/29', 'CNI_ARGS IP is honoured');
  const taken = await run(p, 'ADD', 'r2', c, 'IP=10.99.0.6');
  t.equal(taken.json.code, 7);
  t.match(taken.json.msg, /10\.99\.0\.6 is not available/);
  const rc = await run(p, 'ADD', 'rc', { ...c, runtimeConfig: { ips: ['10.99.0.5/29'] } });
  t.equal(rc.json.ips[0].address, '10.99.0.5/29', 'runtimeConfig.ips is honoured');
  t.equal((await run(p, 'ADD', 'd', c)).json.ips[0].address, '10.99.0.2/29', 'wraps around to the freed .2');
  t.equal((await run(p, 'STATUS', '', c)).json.code, 50, 'STATUS says 50 when the range is exhausted');
  const full = await run(p, 'ADD', 'e', c);
  t.equal(full.json.code, 50);
  t.match(full.json.msg, /no IP addresses available in range set 10\.99\.0\.1-10\.99\.0\.6/);
  const gc = await run(p, 'GC', '', { ...c, 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] });
  t.equal(gc.code, 0);
  t.same(store.list().map((x) => x.id), ['b'], 'GC keeps only valid attachments');
  await run(p, 'GC', '', { ...c, 'cni.dev/attachments': [] });
  t.same(store.list(), [], 'the older cni.dev/attachments key works too');
  t.equal((await run(p, 'STATUS', '', c)).code, 0, 'STATUS ok once addresses are free');
  t.equal((await run(p, 'DEL', 'nobody', c)).code, 0, 'DEL of an unknown container is fine');
});

t.test('dual stack: one address per range set', async (t) => {
  const p = makeIpamPlugin(() => new MemoryStore());
  const c = conf({ ranges: [[{ subnet: '10.99.0.0/24' }], [{ subnet: 'fd00:99::/120', rangeStart: 'fd00:99::10' }]] });
  const r = await run(p, 'ADD', 'a', c);
  t.same(r.json.ips.map((x: any) => x.address), ['10.99.0.2/24', 'fd00:99::10/120']);
});

t.test('DiskStore writes the host-local format', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-cni-ipam-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = makeIpamPlugin();
  const c = conf({ dataDir: dir, ranges: [[{ subnet: '10.99.0.0/24', rangeStart: '10.99.0.10' }]] });
  t.equal((await run(p, 'ADD', 'ctr1', c)).json.ips[0].address, '10.99.0.10/24');
  t.equal(readFileSync(join(dir, 'net1', '10.99.0.10'), 'utf8'), 'ctr1\r\neth0');
  t.equal(readFileSync(join(dir, 'net1', 'last_reserved_ip.0'), 'utf8'), '10.99.0.10');
  t.same(readdirSync(join(dir, 'net1')).sort(), ['10.99.0.10', 'last_reserved_ip.0', 'lock']);
  t.equal((await run(p, 'CHECK', 'ctr1', c)).code, 0);
  await run(p, 'DEL', 'ctr1', c);
  t.same(readdirSync(join(dir, 'net1')).sort(), ['last_reserved_ip.0', 'lock']);
  t.equal((await run(p, 'CHECK', 'ctr1', c)).code, 1, 'CHECK fails once released');
});
