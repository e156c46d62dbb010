// The API server's flags: defaults, and every bad setting reported at once with exit code 64.
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseApiServerFlags } from '../../control-plane/apiserver/run.js';

t.test('defaults', async (t) => {
  const { config, problems } = parseApiServerFlags([], { SHOAL_HOME: '/tmp/shoalt-x' });
  t.same(problems, []);
  t.match(config, { home: '/tmp/shoalt-x', store: '/tmp/shoalt-x/store/state.db', port: 6443, bindAddress: '0.0.0.0' });
});

t.test('every bad flag is reported', async (t) => {
  const { config, problems } = parseApiServerFlags(['--secure-port', '99999', '--store', 'mysql://x', '--log-level', 'loud']);
  t.equal(config, undefined);
  t.equal(problems.length, 3);
  t.match(problems.join('\n'), /--secure-port.*99999/);
  t.match(problems.join('\n'), /--store.*mysql/);
  t.match(problems.join('\n'), /--log-level.*loud/);
});

t.test('the process exits 64 on bad configuration', async (t) => {
  const main = join(import.meta.dirname, '..', '..', 'control-plane', 'apiserver', 'main.js');
  const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
    execFile(process.execPath, [main, '--secure-port', 'abc', '--bogus'], (err, _o, stderr) => res({ code: err ? (err as any).code : 0, stderr }));
  });
  t.equal(r.code, 64);
  t.match(r.stderr, /shoal apiserver: unknown flag: --bogus/);
  t.match(r.stderr, /shoal apiserver: --secure-port: must be an integer/);
});
