// .ci/fresh-host, the reset .ci/run does before `npm test` (issue 11), in its dry-run mode so it changes
// nothing on a host where other clusters run: it picks Shoal's leftovers (a netns, a link, an nftables
// table and a lo VIP address named like ours) and switches forwarding off, and leaves alone what is not
// Shoal's (the same kinds of things under another name). Root only (it creates the leftovers).
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../../..', import.meta.url).pathname;
const skip = process.getuid?.() !== 0 ? 'needs root (creates a netns, a link, a table and an address)' : false;

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => execFile(cmd, args, { timeout: 60_000, env }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
}

t.test('.ci/fresh-host picks Shoal leftovers only and switches forwarding off (dry run)', { skip }, async (t) => {
  const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
  const ours = { ns: `shoalt-ci-${rand}`, link: `shoalt-ci${rand}`, table: `shoalt-ci-${rand}`, label: `lo:shp-ci${rand}`, addr: `127.77.${parseInt(rand.slice(0, 2), 16)}.${parseInt(rand.slice(2), 16) || 1}` };
  const other = { ns: `other-ci-${rand}`, link: `othci${rand}`, table: `other-ci-${rand}` };
  t.teardown(async () => {
    for (const ns of [ours.ns, other.ns]) await sh('ip', ['netns', 'del', ns]);
    for (const l of [ours.link, other.link]) await sh('ip', ['link', 'del', l]);
    for (const tb of [ours.table, other.table]) await sh('nft', ['delete', 'table', 'inet', tb]);
    await sh('ip', ['addr', 'del', `${ours.addr}/32`, 'dev', 'lo', 'label', ours.label]);
  });
  for (const ns of [ours.ns, other.ns]) t.equal((await sh('ip', ['netns', 'add', ns])).code, 0);
  for (const l of [ours.link, other.link]) t.equal((await sh('ip', ['link', 'add', l, 'type', 'bridge'])).code, 0);
  for (const tb of [ours.table, other.table]) t.equal((await sh('nft', ['add', 'table', 'inet', tb])).code, 0);
  t.equal((await sh('ip', ['addr', 'add', `${ours.addr}/32`, 'dev', 'lo', 'label', ours.label])).code, 0);

  const r = await sh(join(root, '.ci', 'fresh-host'), [], { ...process.env, SHOAL_CI_DRY_RUN: '1' });
  t.equal(r.code, 0, r.stderr);
  const would = r.stdout.split('\n').filter((l) => l.startsWith('ci: would run: ')).map((l) => l.slice('ci: would run: '.length));
  t.ok(would.includes(`ip netns del ${ours.ns}`), 'our netns');
  t.ok(would.includes(`ip link del ${ours.link}`), 'our link');
  t.ok(would.includes(`nft delete table inet ${ours.table}`), 'our table');
  t.ok(would.includes(`ip addr del ${ours.addr}/32 dev lo label ${ours.label}`), 'our VIP address on lo');
  t.ok(would.includes('sysctl -qw net.ipv4.ip_forward=0'), 'forwarding off');
  t.ok(would.includes('rm -rf /run/shoal/route-holders /run/shoal/sysctl-holders'), 'holder records');
  t.notOk(would.some((l) => l.includes(other.ns) || l.includes(other.link) || l.includes(other.table)), 'nothing that is not Shoal\'s');
  t.notOk(would.some((l) => /\bkill\b|pkill|killall/.test(l)), 'nothing is stopped');
  t.match(r.stdout, /ci: fresh host: net\.ipv4\.ip_forward \S+ -> 0; removed \d+ netns, \d+ links, \d+ nftables tables, \d+ lo addresses, \d+ routes \(dry run: nothing changed\)/);
  t.equal((await sh('ip', ['netns', 'list'])).stdout.includes(ours.ns), true, 'dry run: still there');
});
