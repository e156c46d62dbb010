// Secrets encrypted at rest: through a real API server (kubectl), a Secret reads back as written while
// the SQLite file (and its WAL) holds neither its plaintext nor its base64; the stored value has kube's
// `k8s:enc:aesgcm:v1:key1:` prefix; a Secret stored in plaintext before encryption was on still reads;
// the key file was created under the state dir; bad configurations are refused naming the field.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseEncryptionConfig, Transformer } from '../../control-plane/apiserver/storage/encryption.js';
import { tlsCluster, type TlsCluster } from './tls-harness.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

const MARKER = 'correct-horse-battery-staple-7f3a';

t.test('secrets at rest', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  let c: TlsCluster;
  t.before(async () => {
    c = await tlsCluster();
  });
  t.teardown(async () => c?.close());

  t.test('the key file', async (t) => {
    const path = join(c.home, 'pki', 'encryption-config.yaml');
    t.ok(existsSync(path));
    t.equal(statSync(path).mode & 0o777, 0o600);
    t.match(readFileSync(path, 'utf8'), /kind: EncryptionConfiguration[\s\S]*aesgcm:[\s\S]*name: key1[\s\S]*identity: \{\}/);
  });

  t.test('written encrypted, read decrypted', async (t) => {
    const cr = await c.kubectl(['create', 'secret', 'generic', 'db', `--from-literal=password=${MARKER}`]);
    t.equal(cr.code, 0, cr.stderr);
    const got = await c.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
    t.equal(Buffer.from(got.stdout, 'base64').toString(), MARKER, 'kubectl reads the plaintext');
    const raw: any = await (c.server.objects.store as any).inner.get('/registry/core/secrets/default/db');
    t.match(raw.value, /^k8s:enc:aesgcm:v1:key1:/, 'the store holds ciphertext');
    const db = join(c.home, 'state.db');
    const files = [db, `${db}-wal`].filter(existsSync).map((f) => readFileSync(f));
    t.ok(files.length >= 1);
    for (const needle of [MARKER, Buffer.from(MARKER).toString('base64')]) t.notOk(files.some((b) => b.includes(needle)), `the SQLite files do not contain ${needle}`);
    // watch and list decrypt too
    const list = await c.kubectl(['get', 'secrets', '-o', 'jsonpath={.items[?(@.metadata.name=="db")].data.password}']);
    t.equal(Buffer.from(list.stdout, 'base64').toString(), MARKER);
    // configmaps stay plaintext (only secrets are configured)
    await c.kubectl(['create', 'configmap', 'plain', '--from-literal=k=v']);
    t.match(((await (c.server.objects.store as any).inner.get('/registry/core/configmaps/default/plain')) as any).value, /^\{"apiVersion":"v1"/);
  });

  t.test('a secret stored in plaintext before still reads; encrypted when next written', async (t) => {
    const old = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'legacy', namespace: 'default', uid: 'u-legacy', creationTimestamp: '2024-01-01T00:00:00Z' }, type: 'Opaque', data: { k: Buffer.from('old-value').toString('base64') } };
    // straight into the SQLite store under the API server's encryption layer
    const inner = (c.server.objects.store as any).inner;
    await inner.create('/registry/core/secrets/default/legacy', JSON.stringify(old));
    t.match((await inner.get('/registry/core/secrets/default/legacy')).value, /^\{/, 'stored as plaintext');
    const got = await c.kubectl(['get', 'secret', 'legacy', '-o', 'jsonpath={.data.k}']);
    t.equal(Buffer.from(got.stdout, 'base64').toString(), 'old-value');
    // any write stores it encrypted from then on
    t.equal((await c.kubectl(['label', 'secret', 'legacy', 'rotated=yes'])).code, 0);
    t.match((await inner.get('/registry/core/secrets/default/legacy')).value, /^k8s:enc:aesgcm:v1:key1:/);
    t.equal(Buffer.from((await c.kubectl(['get', 'secret', 'legacy', '-o', 'jsonpath={.data.k}'])).stdout, 'base64').toString(), 'old-value');
  });

  t.test('the transformer', async (t) => {
    const cfg = parseEncryptionConfig(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets, widgets.example.com]
  providers:
  - aesgcm: {keys: [{name: k2, secret: ${Buffer.alloc(32, 2).toString('base64')}}, {name: k1, secret: ${Buffer.alloc(16, 1).toString('base64')}}]}
`, 'cfg');
    const tr = new Transformer(cfg);
    const enc = tr.toStore('/registry/example.com/widgets/ns/w', '{"a":1}');
    t.match(enc, /^k8s:enc:aesgcm:v1:k2:/, 'the first key encrypts');
    t.equal(tr.fromStore('/registry/example.com/widgets/ns/w', enc), '{"a":1}');
    t.throws(() => tr.fromStore('/registry/example.com/widgets/ns/other', enc), 'bound to its key (GCM additional data)');
    t.throws(() => tr.fromStore('/registry/core/secrets/ns/s', '{"plain":true}'), /no identity provider/, 'no identity: plaintext refused');
    t.equal(tr.toStore('/registry/core/configmaps/ns/c', 'x'), 'x', 'other resources untouched');
    t.throws(() => parseEncryptionConfig(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aesgcm: {keys: [{name: k, secret: c2hvcnQ=}]}
  - kms: {}
`, 'bad.yaml'), /bad\.yaml: resources\[0\]\.providers\[0\]\.aesgcm\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 5, expected one of \[16 24 32\]; resources\[0\]\.providers\[1\]: Invalid value/);
  });
});
