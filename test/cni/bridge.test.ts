// shoal-bridge over the FakeKernel: config errors, the batches ADD sends, ADD undoing its work
// when a later step fails, DEL tolerating a missing netns, and the ipMasq nftables text.

import t from 'tap';
import { parseBridgeConfig } from '../../cni/bridge/config.js';
import { FakeKernel } from '../../cni/bridge/kernel.js';
import { masqAddScript, masqDelScripts, networkTag } from '../../cni/bridge/masq.js';
import { MemoryStore } from '../../cni/ipam/store.js';
import { makePlugins } from '../../cni/plugins.js';
import { dispatch } from '../../cni/skel/skel.js';
import { CniError } from '../../cni/spec/errors.js';
import type { NetConf } from '../../cni/spec/types.js';

const base = { cniVersion: '1.1.0', name: 'n1', type: 'shoal-bridge', ipam: { type: 'shoal-ipam', ranges: [[{ subnet: '10.99.3.0/24' }]] } };

t.test('bridge config errors', async (t) => {
  const rows: { name: string; conf: Record<string, unknown>; code: number; msg: RegExp }[] = [
    { name: 'unknown field', conf: { vlanz: 3 }, code: 2, msg: /^vlanz: unsupported field/ },
    { name: 'long bridge name', conf: { bridge: 'abcdefghijklmnop' }, code: 7, msg: /^bridge: Invalid value/ },
    { name: 'bad mtu', conf: { mtu: 10 }, code: 7, msg: /^mtu: Invalid value: 10/ },
    { name: 'bad mac', conf: { runtimeConfig: { mac: 'zz' } }, code: 7, msg: /runtimeConfig\.mac/ },
    { name: 'multicast mac', conf: { mac: '01:00:00:00:00:01' }, code: 7, msg: /unicast/ },
    { name: 'non-bool', conf: { isGateway: 'yes' }, code: 7, msg: /isGateway: Invalid value/ },
    { name: 'no ipam type', conf: { ipam: {} }, code: 7, msg: /ipam\.type: Required value/ },
  ];
  for (const r of rows) {
    try {
      parseBridgeConfig({ ...base, ...r.conf } as NetConf);
      t.fail(`${r.name}: should throw`);
    } catch (e) {
      t.equal((e as CniError).code, r.code, `${r.name}: code`);
      t.match((e as Error).message, r.msg, `${r.name}: message`);
    }
  }
  t.equal(parseBridgeConfig({ ...base, isDefaultGateway: true } as NetConf).isGateway, true, 'isDefaultGateway implies isGateway');
  t.equal(parseBridgeConfig(base as NetConf).bridge, 'shoal0');
});

function setup() {
  const kernel = new FakeKernel();
  kernel.links.set('br9', { mac: '02:00:00:00:00:09', isBridge: true, master: undefined });
  const store = new MemoryStore();
  const plugins = makePlugins({ kernel, store: () => store });
  const call = async (cmd: string, conf: object, netns = '/run/netns/p1') => {
    let out = '';
    const code = await dispatch(plugins.get('shoal-bridge')!, {
      env: { CNI_COMMAND: cmd, CNI_CONTAINERID: 'c1', CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent' },
      stdin: JSON.stringify(conf),
      stdout: (s) => (out += s),
      stderr: () => undefined,
    });
    return { code, json: out ? JSON.parse(out) : undefined };
  };
  return { kernel, store, call };
}

t.test('ADD sends the veth batch, then the gateway and netns batches; result lists three interfaces', async (t) => {
  const { kernel, store, call } = setup();
  const r = await call('ADD', { ...base, bridge: 'br9', isDefaultGateway: true, hairpinMode: true, mtu: 1400 });
  t.equal(r.code, 0, JSON.stringify(r.json));
  t.equal(kernel.calls.length, 3, 'three ip processes (the last two run together)');
  const [host, gateway, inside] = kernel.calls;
  t.equal(host.netns, undefined);
  t.match(host.lines[1], /^link add veth[0-9a-f]{8} mtu 1400 address \S+ type veth peer name eth0 mtu 1400 address \S+ netns \/run\/netns\/p1$/);
  t.same(gateway, { netns: undefined, lines: ['addr replace 10.99.3.1/24 dev br9'] }, 'gateway address on the bridge');
  t.ok(host.lines.some((l) => /type bridge_slave hairpin on/.test(l)), 'hairpin');
  t.equal(inside.netns, '/run/netns/p1');
  t.same(inside.lines, ['link set eth0 up', 'addr add 10.99.3.2/24 dev eth0', 'route add 0.0.0.0/0 via 10.99.3.1 dev eth0']);
  t.same(r.json.interfaces.map((i: any) => i.name).slice(0, 1), ['br9']);
  t.equal(r.json.interfaces[2].sandbox, '/run/netns/p1');
  t.same(r.json.ips, [{ address: '10.99.3.2/24', gateway: '10.99.3.1', interface: 2 }]);
  t.equal(store.list().length, 1);
});

t.test('ADD undoes the veth and the address when a later step fails', async (t) => {
  const { kernel, store, call } = setup();
  kernel.fail = /^route add/;
  const r = await call('ADD', { ...base, bridge: 'br9', isDefaultGateway: true });
  t.equal(r.json.code, 100);
  t.match(r.json.msg, /ip route add 0\.0\.0\.0\/0/);
  const last = kernel.calls[kernel.calls.length - 1];
  t.match(last.lines[0], /^link del veth[0-9a-f]{8}$/, 'host veth deleted');
  t.same(store.list(), [], 'address released');
});

t.test('ADD reports an existing interface and leaks nothing', async (t) => {
  const { kernel, store, call } = setup();
  kernel.fail = /^link add veth/;
  const r = await call('ADD', { ...base, bridge: 'br9' });
  t.match(r.json.msg, /CNI_IFNAME: interface eth0 already exists/);
  t.notOk(kernel.calls.some((c) => c.lines.some((l) => l.startsWith('link del'))), 'nothing to delete: the veth was never made');
  t.same(store.list(), []);
});

t.test('a second ADD for an existing interface fails and undoes only its own work: the first ADD keeps its address', async (t) => {
  const { kernel, store, call } = setup();
  const conf = { ...base, bridge: 'br9', isDefaultGateway: true };
  const first = await call('ADD', conf);
  t.equal(first.code, 0);
  const held = store.list();
  t.equal(held.length, 1);
  kernel.fail = /^link add veth/; // what the kernel answers when eth0 already exists in the netns
  const second = await call('ADD', conf);
  t.match(second.json.msg, /CNI_IFNAME: interface eth0 already exists/);
  t.same(store.list(), held, 'the first ADD still holds its address');
  kernel.fail = undefined;
  kernel.jsonReplies.set('addr show dev eth0', [{ address: first.json.interfaces[2].mac, addr_info: [{ local: '10.99.3.2', prefixlen: 24 }] }]);
  kernel.links.set(first.json.interfaces[1].name, { mac: first.json.interfaces[1].mac, isBridge: false, master: 'br9' });
  kernel.jsonReplies.set('route show dev eth0', [{ dst: 'default', gateway: '10.99.3.1' }]);
  const chk = await call('CHECK', { ...conf, prevResult: first.json });
  t.equal(chk.code, 0, `CHECK after the failed second ADD: ${JSON.stringify(chk.json)}`);
});

t.test('ADD with a missing netns fails with code 3 before doing anything', async (t) => {
  const { kernel, store, call } = setup();
  kernel.netnsPresent = false;
  const r = await call('ADD', { ...base, bridge: 'br9' });
  t.equal(r.json.code, 3);
  t.same(kernel.calls, []);
  t.same(store.list(), []);
});

t.test('ADD with a missing IPAM plugin: code 7 naming ipam.type, before touching the kernel', async (t) => {
  const { kernel, call } = setup();
  const r = await call('ADD', { ...base, ipam: { type: 'no-such-ipam' } });
  t.equal(r.json.code, 7);
  t.match(r.json.msg, /^ipam\.type: plugin "no-such-ipam" not found in CNI_PATH/);
  t.same(kernel.calls, []);
});

t.test('DEL is idempotent and tolerates a missing netns', async (t) => {
  const { kernel, call } = setup();
  kernel.netnsPresent = false;
  t.equal((await call('DEL', base)).code, 0);
  t.equal((await call('DEL', base)).code, 0);
  t.same(kernel.calls, [], 'no kernel work without the netns');
});

t.test('ipMasq: nftables script text', async (t) => {
  const tag = networkTag('n1');
  t.match(tag, /^[0-9a-f]{8}$/);
  const add = masqAddScript('n1', 'c1', 'eth0', ['10.99.3.2/24', 'fd00::2/64']);
  t.equal(
    add,
    [
      'add table inet shoal-cni',
      `add set inet shoal-cni pods4-${tag} { type ipv4_addr; }`,
      `add set inet shoal-cni pods6-${tag} { type ipv6_addr; }`,
      `add chain inet shoal-cni post-${tag} { type nat hook postrouting priority srcnat; policy accept; }`,
      `flush chain inet shoal-cni post-${tag}`,
      `add rule inet shoal-cni post-${tag} ip saddr @pods4-${tag} ip daddr != { 10.99.3.0/24, 224.0.0.0/4 } masquerade`,
      `add element inet shoal-cni pods4-${tag} { 10.99.3.2 comment "c1/eth0" }`,
      `add rule inet shoal-cni post-${tag} ip6 saddr @pods6-${tag} ip6 daddr != { fd00::/64, ff00::/8 } masquerade`,
      `add element inet shoal-cni pods6-${tag} { fd00::2 comment "c1/eth0" }`,
      '',
    ].join('\n'),
  );
  t.same(masqDelScripts('n1', ['10.99.3.2/24']), [`delete element inet shoal-cni pods4-${tag} { 10.99.3.2 }\n`]);
  const { kernel, call } = setup();
  const r = await call('ADD', { ...base, bridge: 'br9', ipMasq: true });
  t.equal(r.code, 0);
  t.match(kernel.nftScripts[0], /add element inet shoal-cni pods4-\w+ \{ 10\.99\.3\.2 comment "c1\/eth0" \}/);
});
