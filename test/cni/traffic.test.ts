// Real pods (root only): two network namespaces wired by shoal-bridge through the shim and the
// resident daemon reach each other (TCP echo) and the gateway; a second ADD for an existing interface
// fails without undoing the first; after DEL nothing of theirs is left
// on the host (links, addresses, routes, IPAM files, nft rules compared before and after).
// Also: 50 parallel ADDs get 50 distinct addresses (standalone processes and daemon), bad input
// through the real executable, and the ipMasq rules applied in a throwaway namespace.

import t from 'tap';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { masqAddScript, masqDelScripts, networkTag } from '../../cni/bridge/masq.js';
import { cni, daemon, echoClient, echoServer, installTmp, netns, rand4, removeLinkAtEnd, rootSkip, sh, snapshot } from './helpers.js';

const skip = rootSkip();

t.test('two pods on one bridge: TCP echo, gateway, clean DEL', { skip }, async (t) => {
  const r = rand4();
  const inst = installTmp(t, `shoalt-cni-${r}`);
  await daemon(t, inst.socket);
  const br = `sc${r}br`;
  removeLinkAtEnd(t, br);
  const octet = 100 + (parseInt(r, 16) % 150);
  const conf = {
    cniVersion: '1.1.0',
    name: `shoalt-cni-${r}`,
    type: 'shoal-bridge',
    bridge: br,
    isDefaultGateway: true,
    ipam: { type: 'shoal-ipam', dataDir: inst.data, ranges: [[{ subnet: `10.99.${octet}.0/24` }]] },
  };
  const before = await snapshot([inst.data]);
  const pods = [await netns(t, `shoalt-cni-${r}-1`), await netns(t, `shoalt-cni-${r}-2`)];
  const env = (i: number) => ({ SHOAL_CNI_SOCKET: inst.socket, CNI_CONTAINERID: `pod${i}-${r}`, CNI_NETNS: pods[i].path, CNI_IFNAME: 'eth0', CNI_PATH: inst.bin });
  const adds = [];
  for (const i of [0, 1]) {
    const res = await cni(join(inst.bin, 'shoal-bridge'), 'ADD', conf, env(i));
    t.equal(res.code, 0, `ADD pod ${i}: ${JSON.stringify(res.json)}`);
    adds.push(res.json);
  }
  const ip0 = adds[0].ips[0].address.split('/')[0];
  const gw = adds[0].ips[0].gateway;
  t.equal(gw, `10.99.${octet}.1`);
  t.not(ip0, adds[1].ips[0].address.split('/')[0], 'distinct addresses');
  await sh('ip', ['-n', pods[0].name, 'link', 'set', 'lo', 'up']);
  await echoServer(t, pods[0].name, ip0, 7777);
  t.equal(await echoClient(pods[1].name, ip0, 7777, 'hello-pod'), 'hello-pod', 'pod 2 reaches pod 1 over TCP');

  const gwServer = createServer((s) => s.pipe(s));
  await new Promise<void>((res) => gwServer.listen(7778, gw, res));
  t.teardown(() => gwServer.close());
  t.equal(await echoClient(pods[1].name, gw, 7778, 'hello-gw'), 'hello-gw', 'pod reaches the gateway on the host');

  const chk = await cni(join(inst.bin, 'shoal-bridge'), 'CHECK', { ...conf, prevResult: adds[0] }, env(0));
  t.equal(chk.code, 0, `CHECK: ${JSON.stringify(chk.json)}`);
  // a second ADD for the same container interface fails, and its rollback leaves the first ADD intact
  const again = await cni(join(inst.bin, 'shoal-bridge'), 'ADD', conf, env(0));
  t.match(again.json?.msg, /CNI_IFNAME: interface eth0 already exists/, 'a second ADD for an existing interface fails');
  const still = await cni(join(inst.bin, 'shoal-bridge'), 'CHECK', { ...conf, prevResult: adds[0] }, env(0));
  t.equal(still.code, 0, `CHECK after the failed second ADD: the first ADD keeps its address (${JSON.stringify(still.json)})`);
  t.equal(await echoClient(pods[1].name, ip0, 7777, 'still-there'), 'still-there', 'and pod 1 still answers on it');
  await sh('ip', ['-n', pods[0].name, 'addr', 'flush', 'dev', 'eth0']);
  const bad = await cni(join(inst.bin, 'shoal-bridge'), 'CHECK', { ...conf, prevResult: adds[0] }, env(0));
  t.match(bad.json?.msg, /address .* is missing/, 'CHECK notices a removed address');

  for (const i of [0, 1]) t.equal((await cni(join(inst.bin, 'shoal-bridge'), 'DEL', conf, env(i))).code, 0, `DEL pod ${i}`);
  t.equal((await cni(join(inst.bin, 'shoal-bridge'), 'DEL', conf, env(0))).code, 0, 'second DEL is fine');
  const ports = await sh('ip', ['-o', 'link', 'show', 'master', br]);
  t.equal(ports.stdout.trim(), '', 'no veth left on the bridge');
  const after = await snapshot([inst.data]);
  // Other test files run in parallel: compare only what can be ours (our subnet, our veths' peers).
  const ours = (l: string) => l.includes(`10.99.${octet}.`) && !l.includes(br);
  for (const k of ['addrs', 'routes', 'nft'] as const) t.same(after[k].filter(ours), before[k].filter(ours), `${k}: nothing of the pods left`);
  const veths = (await sh('ip', ['-o', 'link', 'show', 'type', 'veth'])).stdout;
  t.notMatch(veths, new RegExp(`link-netns shoalt-cni-${r}-`), 'no veth peered with the pods');
  t.same(after.files.filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f)), [], 'no IPAM address files');
});

t.test('50 parallel ADDs get 50 distinct addresses (standalone and daemon)', { skip }, async (t) => {
  const r = rand4();
  const inst = installTmp(t, `shoalt-cni-${r}`);
  const conf = { cniVersion: '1.1.0', name: 'par', type: 'shoal-ipam', ipam: { type: 'shoal-ipam', dataDir: inst.data, ranges: [[{ subnet: '10.99.0.0/24' }]] } };
  const runAll = async (socket: string, tag: string) => {
    const res = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        cni(join(inst.bin, 'shoal-ipam'), 'ADD', conf, { SHOAL_CNI_SOCKET: socket, CNI_CONTAINERID: `${tag}${i}`, CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: inst.bin }),
      ),
    );
    t.same(res.filter((x) => x.code !== 0).map((x) => x.json), [], `${tag}: all succeed`);
    return res.map((x) => x.json?.ips?.[0]?.address);
  };
  const standalone = await runAll(join(inst.dir, 'no-daemon.sock'), 'sa');
  t.equal(new Set(standalone).size, 50, 'standalone: 50 distinct');
  await daemon(t, inst.socket);
  const viaDaemon = await runAll(inst.socket, 'dm');
  t.equal(new Set([...standalone, ...viaDaemon]).size, 100, 'daemon: 50 more, distinct from the first 50');
});

t.test('bad input through the real executable: right code, field named, nothing leaked', { skip }, async (t) => {
  const r = rand4();
  const inst = installTmp(t, `shoalt-cni-${r}`);
  await daemon(t, inst.socket);
  const pod = await netns(t, `shoalt-cni-${r}-b`);
  const br = `sc${r}bb`;
  removeLinkAtEnd(t, br);
  const octet = 100 + (parseInt(r, 16) % 150);
  const net = `10.98.${octet}`;
  const good = { cniVersion: '1.1.0', name: 'bad', type: 'shoal-bridge', bridge: br, ipam: { type: 'shoal-ipam', dataDir: inst.data, ranges: [[{ subnet: `${net}.0/24` }]] } };
  const env = { SHOAL_CNI_SOCKET: inst.socket, CNI_CONTAINERID: 'bad1', CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: inst.bin };
  // Create the bridge first so the snapshot compares pod state only.
  t.equal((await cni(join(inst.bin, 'shoal-bridge'), 'ADD', good, env)).code, 0);
  t.equal((await cni(join(inst.bin, 'shoal-bridge'), 'DEL', good, env)).code, 0);
  const before = await snapshot([inst.data]);
  const rows: { name: string; conf: object | string; env?: Record<string, string>; code: number; msg: RegExp }[] = [
    { name: 'malformed JSON', conf: '{"cniVersion": "1.1.0", ', code: 6, msg: /stdin: failed to decode/ },
    { name: 'unknown field', conf: { ...good, colour: 'blue' }, code: 2, msg: /^colour: unsupported field/ },
    { name: 'overlapping ranges', conf: { ...good, ipam: { ...good.ipam, ranges: [[{ subnet: `${net}.0/24` }, { subnet: `${net}.128/25` }]] } }, code: 7, msg: /ipam\.ranges\[0\]\[1\].*overlaps/ },
    { name: 'gateway outside subnet', conf: { ...good, ipam: { ...good.ipam, ranges: [[{ subnet: `${net}.0/24`, gateway: '10.97.0.1' }]] } }, code: 7, msg: /ipam\.ranges\[0\]\[0\]\.gateway/ },
    { name: 'unsupported version', conf: { ...good, cniVersion: '0.2.0' }, code: 1, msg: /cniVersion/ },
    { name: 'missing netns', conf: good, env: { ...env, CNI_NETNS: '/run/netns/shoalt-cni-nope' }, code: 3, msg: /CNI_NETNS/ },
    { name: 'missing IPAM plugin', conf: { ...good, ipam: { type: 'shoalt-missing' } }, code: 7, msg: /^ipam\.type: plugin "shoalt-missing" not found/ },
    { name: 'missing env', conf: good, env: { ...env, CNI_IFNAME: '' }, code: 4, msg: /CNI_IFNAME/ },
  ];
  for (const row of rows) {
    const res = await cni(join(inst.bin, 'shoal-bridge'), 'ADD', row.conf, row.env ?? env);
    t.equal(res.code, 1, `${row.name}: exit 1`);
    t.equal(res.json?.code, row.code, `${row.name}: code ${JSON.stringify(res.json)}`);
    t.match(res.json?.msg, row.msg, `${row.name}: message`);
    t.notMatch(res.stderr + JSON.stringify(res.json), /\n\s+at /, `${row.name}: no stack trace`);
  }
  // An interface that already exists: ADD fails and leaves no veth or address behind.
  t.equal((await sh('ip', ['-n', pod.name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9'])).code, 0, 'make eth0');
  const dup = await cni(join(inst.bin, 'shoal-bridge'), 'ADD', good, env);
  t.match(dup.json?.msg, /interface eth0 already exists/);
  await sh('ip', ['-n', pod.name, 'link', 'del', 'eth0']);
  // Other test files run in parallel: compare only what can be ours (our subnet, our pod's veths, our files).
  const after = await snapshot([inst.data]);
  const ours = (l: string) => l.includes(`${net}.`) && !l.includes(br);
  for (const k of ['addrs', 'routes', 'nft'] as const) t.same(after[k].filter(ours), before[k].filter(ours), `${k}: unchanged after every failure`);
  t.same(after.files, before.files, 'IPAM files unchanged after every failure');
  const veths = (await sh('ip', ['-o', 'link', 'show', 'type', 'veth'])).stdout;
  t.notMatch(veths, new RegExp(`link-netns ${pod.name}\\b`), 'no veth peered with the pod');
  t.same((await sh('ip', ['-o', 'link', 'show', 'master', br])).stdout, '', 'no veth on the bridge');
});

t.test('ipMasq rules applied for real in a throwaway namespace', { skip }, async (t) => {
  const r = rand4();
  const ns = await netns(t, `shoalt-cni-${r}-m`);
  const nft = (script: string) => sh('ip', ['netns', 'exec', ns.name, 'nft', '-f', '-'], { input: script });
  t.equal((await nft(masqAddScript('n1', 'c1', 'eth0', ['10.99.2.5/24']))).code, 0, 'add script applies');
  t.equal((await nft(masqAddScript('n1', 'c2', 'eth0', ['10.99.2.6/24']))).code, 0, 'second ADD applies (idempotent chain)');
  const tag = networkTag('n1');
  const list = (await sh('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'table', 'inet', 'shoal-cni'])).stdout;
  t.match(list, /10\.99\.2\.5 comment "c1\/eth0"/);
  t.match(list, new RegExp(`ip saddr @pods4-${tag} ip daddr != \\{ 10\\.99\\.2\\.0/24, 224\\.0\\.0\\.0/4 \\} masquerade`));
  t.equal((list.match(/masquerade/g) ?? []).length, 1, 'one rule, not one per ADD');
  for (const s of masqDelScripts('n1', ['10.99.2.5/24'])) t.equal((await nft(s)).code, 0);
  const after = (await sh('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'table', 'inet', 'shoal-cni'])).stdout;
  t.notMatch(after, /10\.99\.2\.5/, 'element removed');
  t.match(after, /10\.99\.2\.6/, 'the other pod keeps its element');
});
