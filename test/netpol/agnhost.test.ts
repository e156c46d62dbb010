// The shoal/agnhost image on loopback (no root): serve answers its hostname on TCP and UDP; probe reports
// every target in order, refused and unresolvable ones as failures, bounded by its timeout; bad input → 64.
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { builtinImages } from '../../node/images/builtin.js';

const root = new URL('../../..', import.meta.url).pathname;
const agnhost = join(root, 'node', 'images', 'agnhost.mjs');

const freeTcp = () => new Promise<number>((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => res(p));
  });
});
const freeUdp = () => new Promise<number>((res) => {
  const s = createSocket('udp4').bind(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
const run = (args: string[], stdin?: string) => new Promise<{ code: number; stdout: string; stderr: string; ms: number }>((res) => {
  const start = Date.now();
  const c = execFile(process.execPath, [agnhost, ...args], { timeout: 10_000 }, (e, stdout, stderr) => res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - start }));
  if (stdin !== undefined) c.stdin!.end(stdin);
});

t.test('the image is in the catalog', async (t) => {
  t.same(builtinImages['shoal/agnhost']?.entrypoint.slice(-1), ['{images}/agnhost.mjs']);
});

t.test('serve and probe', async (t) => {
  const [tcp, udp, closedTcp, closedUdp] = [await freeTcp(), await freeUdp(), await freeTcp(), await freeUdp()];
  const server = spawn(process.execPath, [agnhost, 'serve', '--tcp-ports', String(tcp), '--udp-ports', String(udp)], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  let out = '';
  server.stdout!.on('data', (d) => (out += d));
  const end = Date.now() + 5000;
  while (!(out.includes(`TCP :${tcp}`) && out.includes(`UDP :${udp}`)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.match(out, `serving UDP :${udp}`);

  const rows = [
    { target: { host: 'localhost', protocol: 'TCP', port: tcp }, want: { ok: true, reply: hostname(), ip: '127.0.0.1' } },
    { target: { host: '127.0.0.1', protocol: 'UDP', port: udp }, want: { ok: true, reply: hostname() } },
    { target: { host: '127.0.0.1', port: tcp }, want: { ok: true, protocol: 'TCP' } },
    { target: { host: '127.0.0.1', protocol: 'TCP', port: closedTcp }, want: { ok: false, error: 'ECONNREFUSED' } },
    { target: { host: '127.0.0.1', protocol: 'UDP', port: closedUdp }, want: { ok: false, error: 'ECONNREFUSED' } },
    { target: { host: 'no-such-host.invalid', protocol: 'TCP', port: tcp }, want: { ok: false, error: /^lookup: / } },
  ];
  const r = await run(['probe', '--timeout-ms', '2000', JSON.stringify(rows.map((x) => x.target))]);
  t.equal(r.code, 0, r.stderr);
  const results = JSON.parse(r.stdout);
  t.equal(results.length, rows.length, 'one result per target, in order');
  rows.forEach((row, i) => t.match(results[i], { ...row.want, host: row.target.host, port: row.target.port }, JSON.stringify(row.target)));

  const viaStdin = await run(['probe', '--timeout-ms', '500'], JSON.stringify([{ host: '127.0.0.1', protocol: 'TCP', port: tcp }]));
  t.match(JSON.parse(viaStdin.stdout), [{ ok: true, reply: hostname() }], 'targets on stdin');

  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  t.equal(server.exitCode, 0, 'SIGTERM stops serve cleanly');
});

t.test('a silent UDP peer times out within the bound', async (t) => {
  const s = createSocket('udp4'); // bound, never answers: no ICMP refusal, so only the timeout ends the probe
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => s.close());
  const r = await run(['probe', '--timeout-ms', '300', JSON.stringify([{ host: '127.0.0.1', protocol: 'UDP', port: s.address().port }])]);
  t.match(JSON.parse(r.stdout), [{ ok: false, error: 'timeout' }]);
  t.ok(r.ms < 2000, `bounded (${r.ms} ms)`);
});

t.test('bad input exits 64 naming what is wrong', async (t) => {
  const rows = [
    { args: ['probe', 'not json'], want: /targets: want a JSON array/ },
    { args: ['probe', '--timeout-ms', '-1', '[]'], want: /--timeout-ms: must be a positive number/ },
    { args: ['serve', '--tcp-ports', '80,x'], want: /--tcp-ports: not a port list/ },
    { args: ['porter'], want: /unknown mode "porter"/ },
  ];
  for (const row of rows) {
    const r = await run(row.args);
    t.equal(r.code, 64, row.args.join(' '));
    t.match(r.stderr, row.want);
  }
});
