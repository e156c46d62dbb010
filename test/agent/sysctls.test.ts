// The host settings the node holds (node/agent/sandbox/sysctls.ts): with a fake sysctl seam, the first
// holder records the originals and switches them on, later holders change nothing, the last live holder
// restores what Shoal changed (and only that), a crashed holder does not count, a value changed by someone
// else is left alone, and holds racing from several processes keep one consistent record. Then for real
// (root): /proc/sys through the shared holder dir, coordinated with any cluster running on the host.
import t from 'tap';
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdSysctls, liveHolders, realSysctls, releaseSysctls, SYSCTL_HOLDERS, type SysctlSeam } from '../../node/agent/sandbox/sysctls.js';

const FWD = 'net.ipv4.ip_forward';
const BNF = 'net.bridge.bridge-nf-call-iptables';
/** A PID above any pid_max: a holder whose process is gone. */
const GONE = 4_194_400;

function fake(init: Record<string, string | undefined>, modules: Record<string, Record<string, string>> = {}) {
  const values = new Map(Object.entries(init).filter(([, v]) => v !== undefined) as [string, string][]);
  const writes: string[] = [];
  const seam: SysctlSeam = {
    read: (n) => values.get(n),
    write: (n, v) => {
      writes.push(`${n}=${v}`);
      values.set(n, v);
    },
    loadModule: (m) => {
      for (const [k, v] of Object.entries(modules[m] ?? {})) values.set(k, v);
      return !!modules[m];
    },
  };
  return { seam, values, writes };
}

function tmp(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-sysctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('first holder switches on and records; the last one restores; others change nothing', async (t) => {
  const dir = tmp(t);
  const k = fake({ [FWD]: '0', [BNF]: '1' });
  const a = holdSysctls('a', k.seam, dir);
  t.same(a.map((o) => [o.name, o.before, o.after, o.action]), [[BNF, '1', '1', 'already'], [FWD, '0', '1', 'set']]);
  t.same(JSON.parse(readFileSync(join(dir, 'originals.json'), 'utf8')), { [FWD]: '0' }, 'only what Shoal changed is recorded');
  const b = holdSysctls('b', k.seam, dir);
  t.same(b.map((o) => o.action), ['already', 'already'], 'a second cluster changes nothing');
  t.same(k.writes, [`${FWD}=1`]);
  t.same(liveHolders(dir).sort(), ['a', 'b']);
  const ra = releaseSysctls('a', k.seam, dir);
  t.same(ra.map((o) => [o.name, o.after, o.action, o.holders]), [[FWD, '1', 'kept', 1]], 'a stopping never switches forwarding off under b');
  t.equal(k.values.get(FWD), '1');
  const rb = releaseSysctls('b', k.seam, dir);
  t.same(rb.map((o) => [o.name, o.before, o.after, o.action]), [[FWD, '1', '0', 'restored']], 'the last holder restores');
  t.same(k.writes, [`${FWD}=1`, `${FWD}=0`]);
  t.equal(k.values.get(BNF), '1', 'a setting that was on before is left on');
  t.notOk(existsSync(join(dir, 'originals.json')), 'no record left');
  t.same(releaseSysctls('b', k.seam, dir), [], 'releasing again does nothing');
});

t.test('already on before Shoal: left on when the cluster stops', async (t) => {
  const dir = tmp(t);
  const k = fake({ [FWD]: '1', [BNF]: '1' });
  t.same(holdSysctls('a', k.seam, dir).map((o) => o.action), ['already', 'already']);
  t.same(releaseSysctls('a', k.seam, dir), []);
  t.same(k.writes, [], 'nothing written, ever');
});

t.test('a holder whose process is gone does not keep the settings', async (t) => {
  const dir = tmp(t);
  const k = fake({ [FWD]: '0', [BNF]: '0' });
  holdSysctls('crashed', k.seam, dir, GONE);
  holdSysctls('live', k.seam, dir);
  t.same(liveHolders(dir), ['live'], 'the crashed holder is not live (and its record is pruned)');
  const r = releaseSysctls('live', k.seam, dir);
  t.same(r.map((o) => [o.name, o.after, o.action]), [[FWD, '0', 'restored'], [BNF, '0', 'restored']], 'forwarding goes off first');
});

t.test('a value changed by someone else meanwhile is left alone', async (t) => {
  const dir = tmp(t);
  const k = fake({ [FWD]: '0', [BNF]: '1' });
  holdSysctls('a', k.seam, dir);
  k.values.set(FWD, '0'); // an operator switched it off by hand
  const r = releaseSysctls('a', k.seam, dir);
  t.same(r.map((o) => [o.action, o.holders]), [['kept', 0]]);
  t.same(k.writes, [`${FWD}=1`], 'not written back');
});

t.test('bridge-nf-call-iptables: loads br_netfilter when missing, skips when the kernel has none', async (t) => {
  const dir = tmp(t);
  const k = fake({ [FWD]: '1' }, { br_netfilter: { [BNF]: '1' } });
  const h = holdSysctls('a', k.seam, dir);
  t.same(h.map((o) => [o.name, o.before, o.after, o.action]), [[BNF, 'absent', '1', 'set'], [FWD, '1', '1', 'already']]);
  const r = releaseSysctls('a', k.seam, dir);
  t.same(r.map((o) => [o.name, o.after, o.action]), [[BNF, '0', 'restored']], 'back to what the kernel did without the module');
  const dir2 = tmp(t);
  const none = fake({ [FWD]: '0' });
  t.same(holdSysctls('a', none.seam, dir2).map((o) => o.action), ['missing', 'set']);
  t.same(releaseSysctls('a', none.seam, dir2).map((o) => o.name), [FWD]);
});

t.test('holds racing from several processes: one original recorded, every holder live', async (t) => {
  const dir = tmp(t);
  // each child holds through a file-backed fake (the value is shared like the kernel's): the race is on the record
  const kernel = join(dir, 'kernel.json');
  const script = join(dir, 'racer.mjs');
  const mod = new URL('../../node/agent/sandbox/sysctls.js', import.meta.url).href;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(kernel, JSON.stringify({ [FWD]: '0', [BNF]: '1' }));
  writeFileSync(script, `
    import { readFileSync, writeFileSync } from 'node:fs';
    import { holdSysctls } from ${JSON.stringify(mod)};
    const [dir, kernel, name] = process.argv.slice(2);
    const seam = {
      read: (n) => JSON.parse(readFileSync(kernel, 'utf8'))[n],
      write: (n, v) => { const k = JSON.parse(readFileSync(kernel, 'utf8')); k[n] = v; writeFileSync(kernel, JSON.stringify(k)); },
      loadModule: () => false,
    };
    const out = holdSysctls(name, seam, dir + '/holders');
    process.send(out.map((o) => o.action).join(','), () => setTimeout(() => process.exit(0), 1500));
  `);
  const n = 6;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<string>((res, rej) => {
    const c = fork(script, [dir, kernel, `r${i}`], { stdio: 'ignore' } as any);
    c.once('message', (m) => res(String(m)));
    c.once('error', rej);
  })));
  const sets = results.filter((r) => r.endsWith(',set')).length;
  t.equal(sets, 1, `exactly one racer switched forwarding on: ${results.join(' | ')}`);
  t.same(JSON.parse(readFileSync(join(dir, 'holders', 'originals.json'), 'utf8')), { [FWD]: '0' }, 'the original is the value before any of them');
  t.equal(liveHolders(join(dir, 'holders')).length, n, 'every racer is recorded');
});

const rootSkip = process.getuid?.() !== 0 ? 'needs root (/proc/sys)' : false;

t.test('for real: two holders in the shared dir; the value is what it was once both are gone', { skip: rootSkip }, async (t) => {
  const before = realSysctls.read(FWD);
  const rand = Math.floor(Math.random() * 0xffff).toString(16);
  const [a, b] = [`shoalt-sysctl-a-${rand}`, `shoalt-sysctl-b-${rand}`];
  t.teardown(() => {
    releaseSysctls(a);
    releaseSysctls(b);
  });
  holdSysctls(a);
  t.equal(realSysctls.read(FWD), '1', 'forwarding on while held');
  holdSysctls(b);
  releaseSysctls(a);
  t.equal(realSysctls.read(FWD), '1', 'still on: b holds it');
  const others = liveHolders().filter((h) => h !== b);
  releaseSysctls(b);
  if (others.length) t.equal(realSysctls.read(FWD), '1', `other clusters on this host hold it (${others.join(', ')}): left on`);
  else t.equal(realSysctls.read(FWD), before, `restored to ${before}`);
  t.notOk(existsSync(join(SYSCTL_HOLDERS, `holder-${a}`)) || existsSync(join(SYSCTL_HOLDERS, `holder-${b}`)), 'no record of ours left');
});
