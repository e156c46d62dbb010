// PKI: a CA and serving certificate that real TLS clients accept, stable across restarts, the static
// token file format, and atomic creation: creators racing on one state dir (`shoal up`, the API server,
// `shoal kubeconfig` from another shell) end with one CA, and readers never create one.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ensurePki, parseTokenFile } from '../../control-plane/apiserver/pki.js';

t.test('ensurePki creates a CA-signed serving cert and reuses it', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-pki-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const a = ensurePki(home);
  const ca = new X509Certificate(a.caCertPem);
  const srv = new X509Certificate(a.serverCertPem);
  t.ok(ca.ca, 'CA cert has CA:true');
  t.ok(srv.verify(ca.publicKey), 'server cert is signed by the CA');
  t.equal(srv.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(srv.checkIP('10.96.0.1'), '10.96.0.1');
  t.equal(srv.checkHost('kubernetes.default.svc'), 'kubernetes.default.svc');
  t.ok(a.adminToken.length >= 20, 'admin token is long');
  const b = ensurePki(home);
  t.equal(b.caCertPem, a.caCertPem, 'CA kept across restarts');
  t.equal(b.adminToken, a.adminToken, 'token kept across restarts');
});

t.test('parseTokenFile', async (t) => {
  const m = parseTokenFile('# comment\n\nabc,admin,u1,"system:masters,dev"\nxyz,bob,u2\n');
  t.same(m.get('abc'), { name: 'admin', uid: 'u1', groups: ['system:masters', 'dev'] });
  t.same(m.get('xyz'), { name: 'bob', uid: 'u2', groups: [] });
  t.throws(() => parseTokenFile('only-a-token\n', 'f.csv'), /f.csv:1: expected token,user,uid/);
});

t.test('creators racing on one state dir all get the same CA; kubeconfig readers wait and never create one', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-pki-race-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const cli = new URL('../../cli/main.js', import.meta.url).pathname;
  const mod = new URL('../../control-plane/apiserver/pki.js', import.meta.url).href;
  const script = join(home, 'creator.mjs');
  const go = join(home, 'go');
  writeFileSync(script, `
    import { existsSync } from 'node:fs';
    import { ensurePki } from ${JSON.stringify(mod)};
    const [home, go] = process.argv.slice(2);
    while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
    const p = ensurePki(home);
    process.stdout.write(JSON.stringify({ ca: p.caCertPem, server: p.serverCertPem, serverKey: p.serverKeyPem, token: p.adminToken }));
  `);
  // a cluster is starting from this home (`shoal up` wrote its pid): readers must wait for its credentials
  mkdirSync(join(home, 'run'));
  writeFileSync(join(home, 'run', 'up.pid'), String(process.pid));
  const run = (args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((res) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => res({ code, out, err }));
  });
  const readers = [0, 1].map(() => run([cli, 'kubeconfig', '--home', home]));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(existsSync(join(home, 'pki', 'ca.crt')), 'the readers created nothing while the cluster was starting');
  const creators = Array.from({ length: 6 }, () => run([script, home, go]));
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(go, '');
  const made = await Promise.all(creators);
  for (const m of made) t.equal(m.code, 0, m.err);
  const pkis = made.map((m) => JSON.parse(m.out) as { ca: string; server: string; serverKey: string; token: string });
  t.equal(new Set(pkis.map((p) => p.ca)).size, 1, 'one CA for every creator');
  t.equal(new Set(pkis.map((p) => p.server)).size, 1, 'one serving certificate');
  t.equal(new Set(pkis.map((p) => p.token)).size, 1, 'one admin token');
  const ca = new X509Certificate(pkis[0]!.ca);
  const srv = new X509Certificate(pkis[0]!.server);
  t.ok(srv.verify(ca.publicKey), 'the serving certificate is signed by that CA');
  t.ok(srv.checkPrivateKey(createPrivateKey(pkis[0]!.serverKey)), 'and matches its key');
  t.equal(readFileSync(join(home, 'pki', 'ca.crt'), 'utf8'), pkis[0]!.ca, 'the CA on disk is the one they got');
  for (const r of await Promise.all(readers)) {
    t.equal(r.code, 0, r.err);
    const caData = /certificate-authority-data: (\S+)/.exec(r.out)?.[1] ?? '';
    t.equal(Buffer.from(caData, 'base64').toString('utf8'), pkis[0]!.ca, 'shoal kubeconfig printed the CA the creators made');
  }
  t.same(readdirSync(join(home, 'pki')).sort(), ['apiserver.crt', 'apiserver.key', 'ca.crt', 'ca.key', 'tokens.csv'], 'no lock or temporary file left');
});

t.test('shoal kubeconfig for a state dir without a cluster: an error, and nothing created', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-pki-none-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const cli = new URL('../../cli/main.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [cli, 'kubeconfig', '--home', home], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, `no cluster credentials in ${join(home, 'pki')}`);
  t.notOk(existsSync(join(home, 'pki')), 'no PKI made');
});

t.test('a stale creation lock (its creator crashed) is broken', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-pki-stale-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, 'pki'));
  writeFileSync(join(home, 'pki', '.create.lock'), '4194400 1\n'); // a PID above any pid_max
  const p = ensurePki(home);
  t.ok(new X509Certificate(p.caCertPem).ca);
  t.notOk(existsSync(join(home, 'pki', '.create.lock')));
});
