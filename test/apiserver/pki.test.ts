// PKI: a CA and serving certificate that real TLS clients accept, stable across restarts, and the
// static token file format.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
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
