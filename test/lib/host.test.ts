// lib/host: the runner's one failure rule against real processes, runSync, mustRun's error, the fakes.
import t from 'tap';
import { CommandError, inNetns, mustRun, realRunner, runSync, shq } from '../../lib/host/run.js';
import { FakeHost, FakeRunner } from '../../lib/host/fake.js';
import { hostOf, sysctlPath } from '../../lib/host/sysctl.js';

t.test('run: the failure rule', async (t) => {
  const rows: { name: string; cmd: string; args: string[]; input?: string; timeoutMs?: number; code: number; stdout?: string; stderr?: RegExp; startError?: boolean }[] = [
    { name: 'success with stdin', cmd: 'cat', args: [], input: 'hello', code: 0, stdout: 'hello' },
    { name: 'non-zero exit resolves', cmd: 'sh', args: ['-c', 'echo oops >&2; exit 3'], code: 3, stderr: /oops/ },
    { name: 'cannot start: 127', cmd: '/nonexistent/shoal-no-such-binary', args: [], code: 127, stderr: /ENOENT/, startError: true },
    { name: 'timeout: 124', cmd: 'sleep', args: ['5'], timeoutMs: 100, code: 124 },
    { name: 'signal: 128+n', cmd: 'sh', args: ['-c', 'kill -TERM $$'], code: 143 },
  ];
  for (const r of rows) {
    const res = await realRunner.run(r.cmd, r.args, { input: r.input, timeoutMs: r.timeoutMs });
    t.equal(res.code, r.code, `${r.name}: code`);
    if (r.stdout !== undefined) t.equal(res.stdout, r.stdout, `${r.name}: stdout`);
    if (r.stderr) t.match(res.stderr, r.stderr, `${r.name}: stderr`);
    t.equal(res.startError !== undefined, !!r.startError, `${r.name}: startError`);
    const sync = runSync(r.cmd, r.args, { input: r.input, timeoutMs: r.timeoutMs });
    t.equal(sync.code, r.code, `${r.name}: runSync has the same rule`);
  }
});

t.test('mustRun: stdout, or an error naming what failed', async (t) => {
  t.equal(await mustRun(realRunner, 'echo', 'echo', ['hi']), 'hi\n');
  const e = await mustRun(realRunner, 'load thing', 'sh', ['-c', 'echo a >&2; echo b >&2; exit 2']).catch((x: unknown) => x);
  t.ok(e instanceof CommandError);
  t.equal((e as Error).message, 'load thing: sh exited 2: a | b');
  t.equal((e as CommandError).result.code, 2);
});

t.test('helpers', async (t) => {
  t.same(inNetns(undefined, 'ip', ['link']), ['ip', ['link']]);
  t.same(inNetns('/run/netns/x', 'ip', ['link']), ['nsenter', ['--net=/run/netns/x', '--', 'ip', 'link']]);
  t.equal(shq('a-b/c'), 'a-b/c');
  t.equal(shq("it's"), `'it'\\''s'`);
  t.equal(sysctlPath('net.ipv4.ip_forward'), '/proc/sys/net/ipv4/ip_forward');
});

t.test('FakeRunner and FakeHost', async (t) => {
  const f = new FakeRunner().fail(/^nft /, 'Error: syntax', 1, 1).on(/^ip -j/, { stdout: '[]' });
  t.equal((await f.run('nft', ['-f', '-'], { input: 'add table ip x' })).code, 1, 'first nft fails');
  t.equal((await f.run('nft', ['-f', '-'], { input: 'add table ip y' })).code, 0, 'rule used up');
  t.equal((await f.run('ip', ['-j', 'link'])).stdout, '[]');
  t.same(f.inputs('nft'), ['add table ip x', 'add table ip y']);
  t.same(f.lines(), ['nft -f -', 'nft -f -', 'ip -j link']);
  const h = new FakeHost({ 'net.ipv4.ip_forward': '0' });
  h.writeSysctl('net.ipv4.ip_forward', '1');
  t.equal(h.readSysctl('net.ipv4.ip_forward'), '1');
  t.equal(h.readSysctl('net.bridge.bridge-nf-call-iptables'), undefined);
  const wrapped = hostOf(f, h);
  await wrapped.run('true', []);
  t.equal(f.calls.at(-1)!.cmd, 'true');
  t.equal(wrapped.readSysctl('net.ipv4.ip_forward'), '1');
});
