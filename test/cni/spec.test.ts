// Unit tests of the pure CNI modules: IP arithmetic, version conversion, the dispatcher's error
// codes, the shim protocol and conflist loading. No kernel, no processes.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIP, overlaps, parseCIDR, parseIP } from '../../lib/net/ip.js';
import { convertResult, parseResult } from '../../cni/spec/version.js';
import { type PluginTable, dispatch } from '../../cni/skel/skel.js';
import { CniCode, CniError } from '../../cni/spec/errors.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../cni/daemon/protocol.js';
import { loadConfDir } from '../../cni/runtime/conflist.js';

t.test('IP parse and canonical format', async (t) => {
  const rows: [string, string | undefined][] = [
    ['10.244.0.5', '10.244.0.5'],
    ['255.255.255.255', '255.255.255.255'],
    ['256.1.1.1', undefined],
    ['fd00::1', 'fd00::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::2::3', undefined],
    ['hello', undefined],
  ];
  for (const [input, want] of rows) {
    const ip = parseIP(input);
    t.equal(ip ? formatIP(ip) : undefined, want, input);
  }
  t.ok(overlaps(parseCIDR('10.0.0.0/8')!, parseCIDR('10.1.0.0/16')!), 'nested CIDRs overlap');
  t.notOk(overlaps(parseCIDR('10.0.0.0/24')!, parseCIDR('10.0.1.0/24')!), 'adjacent CIDRs do not overlap');
  t.notOk(overlaps(parseCIDR('10.0.0.0/24')!, parseCIDR('fd00::/64')!), 'families never overlap');
});

t.test('results convert to each supported version', async (t) => {
  const res = parseResult({
    cniVersion: '1.1.0',
    interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1400, sandbox: '/run/netns/x' }],
    ips: [{ address: '10.244.0.5/24', gateway: '10.244.0.1', interface: 0 }, { address: 'fd00::5/64', interface: 0 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.244.0.1', mtu: 1400 }],
  });
  const rows: { version: string; ipVersion: string | undefined; ifaceMtu: number | undefined; routeMtu: number | undefined }[] = [
    { version: '0.3.0', ipVersion: '4', ifaceMtu: undefined, routeMtu: undefined },
    { version: '0.4.0', ipVersion: '4', ifaceMtu: undefined, routeMtu: undefined },
    { version: '1.0.0', ipVersion: undefined, ifaceMtu: undefined, routeMtu: undefined },
    { version: '1.1.0', ipVersion: undefined, ifaceMtu: 1400, routeMtu: 1400 },
  ];
  for (const r of rows) {
    const out = convertResult(res, r.version) as any;
    t.equal(out.cniVersion, r.version);
    t.equal(out.ips[0].version, r.ipVersion, `${r.version}: ips[0].version`);
    t.equal(out.ips[1].version, r.ipVersion === undefined ? undefined : '6', `${r.version}: ips[1].version`);
    t.equal(out.interfaces[0].mtu, r.ifaceMtu, `${r.version}: interface mtu`);
    t.equal(out.routes[0].mtu, r.routeMtu, `${r.version}: route mtu`);
  }
  t.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: 'nope' }] }), /prevResult\.ips\[0\]\.address/);
});

const echo: PluginTable = {
  name: 'echo',
  supportedVersions: ['0.4.0', '1.0.0', '1.1.0'],
  async add(a) {
    return { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }], dns: { nameservers: [a.containerID] } };
  },
  async del() {
    throw new CniError(CniCode.TryAgainLater, 'busy');
  },
  async check() {},
  async status() {},
  async gc() {
    throw new Error('boom');
  },
};

async function call(env: Record<string, string>, stdin: string) {
  let out = '';
  let err = '';
  const code = await dispatch(echo, { env, stdin, stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, json: out ? JSON.parse(out) : undefined, err };
}

t.test('dispatcher: codes for bad environment, input and versions', async (t) => {
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/bin' };
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'echo' });
  const rows: { name: string; env: Record<string, string>; stdin: string; code: number; msg?: RegExp }[] = [
    { name: 'ok', env, stdin: conf, code: 0 },
    { name: 'missing netns var', env: { ...env, CNI_NETNS: '' }, stdin: conf, code: 4, msg: /CNI_NETNS/ },
    { name: 'bad ifname', env: { ...env, CNI_IFNAME: 'a/b' }, stdin: conf, code: 4, msg: /CNI_IFNAME/ },
    { name: 'bad container id', env: { ...env, CNI_CONTAINERID: '-x' }, stdin: conf, code: 4, msg: /CNI_CONTAINERID/ },
    { name: 'unknown command', env: { ...env, CNI_COMMAND: 'FOO' }, stdin: conf, code: 4, msg: /CNI_COMMAND/ },
    { name: 'malformed json', env, stdin: '{"cniVersion":', code: 6, msg: /decode/ },
    { name: 'unsupported version', env, stdin: JSON.stringify({ cniVersion: '0.3.1', name: 'n', type: 'echo' }), code: 1, msg: /cniVersion/ },
    { name: 'missing version', env, stdin: JSON.stringify({ name: 'n' }), code: 1, msg: /cniVersion/ },
    { name: 'missing name', env, stdin: JSON.stringify({ cniVersion: '1.0.0' }), code: 7, msg: /^name/ },
    { name: 'plugin error keeps its code', env: { ...env, CNI_COMMAND: 'DEL' }, stdin: conf, code: 11, msg: /busy/ },
    { name: 'unexpected throw is 999 without stack', env: { ...env, CNI_COMMAND: 'GC' }, stdin: conf, code: 999, msg: /^boom$/ },
  ];
  for (const r of rows) {
    const res = await call(r.env, r.stdin);
    if (r.code === 0) {
      t.equal(res.code, 0, r.name);
      t.same(res.json.ips, [{ address: '10.0.0.2/24' }], `${r.name}: result`);
      t.equal(res.json.cniVersion, '1.0.0', `${r.name}: result in the config's version`);
    } else {
      t.equal(res.code, 1, `${r.name}: exit code`);
      t.equal(res.json.code, r.code, `${r.name}: CNI code`);
      t.match(res.json.msg, r.msg!, `${r.name}: message`);
      t.notMatch(JSON.stringify(res.json), /at .*\.js:\d+/, `${r.name}: no stack trace`);
    }
  }
  const v = await call({ CNI_COMMAND: 'VERSION' }, '');
  t.same(v.json, { cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
});

t.test('shim protocol round-trips', async (t) => {
  const req = { plugin: 'shoal-bridge', env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=1;B=2' }, stdin: Buffer.from('{"x":1}') };
  const back = decodeRequest(encodeRequest(req));
  t.same({ ...back, stdin: back.stdin.toString() }, { ...req, stdin: '{"x":1}' });
  t.same(decodeResponse(encodeResponse(7, 'out€', 'err')), { code: 7, stdout: 'out€', stderr: 'err' });
  t.throws(() => decodeRequest(Buffer.from('no-terminator')), /NUL/);
});

t.test('conflist directory: sorted, .conf up-converted, bad files reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-cni-conf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '20-b.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'b', type: 'bridge' }));
  writeFileSync(join(dir, '10-a.conflist'), JSON.stringify({ cniVersion: '1.1.0', name: 'a', disableGC: true, plugins: [{ type: 'x' }, { type: 'y' }] }));
  writeFileSync(join(dir, '30-bad.conflist'), '{not json');
  writeFileSync(join(dir, '40-ver.conflist'), JSON.stringify({ cniVersion: '9.9.9', name: 'v', plugins: [{ type: 'x' }] }));
  writeFileSync(join(dir, 'README.txt'), 'ignored');
  const { lists, errors } = loadConfDir(dir);
  t.same(lists.map((l) => l.name), ['a', 'b']);
  t.same(lists[1].plugins, [{ type: 'bridge' }]);
  t.equal(lists[0].disableGC, true);
  t.same(errors.map((e) => e.code), [6, 1]);
  t.match(errors[0].message, /30-bad\.conflist/);
});
