// Unit tests of the client's pure parts: kubeconfig resolution, kubectl-style name matching, the watch
// line decoder and error mapping. Table-driven; no sockets.

import t from 'tap';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveKubeconfig, loadKubeconfig, kubeconfigPaths, KubeconfigError } from '../../api/client/config.js';
import { findResource, type ApiResource } from '../../api/client/discovery.js';
import { decodeLines, decodeWatch } from '../../api/client/watch.js';
import { errorFromResponse, isExpired, isNotFound } from '../../api/client/errors.js';
import { queryString } from '../../api/client/client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const baseCfg = {
  apiVersion: 'v1', kind: 'Config', 'current-context': 'a',
  clusters: [{ name: 'c1', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('CA-PEM') } }],
  users: [{ name: 'u1', user: { token: 'tok' } }, { name: 'u2', user: { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') } }],
  contexts: [{ name: 'a', context: { cluster: 'c1', user: 'u1', namespace: 'team' } }, { name: 'b', context: { cluster: 'c1', user: 'u2' } }, { name: 'bad', context: { cluster: 'nope', user: 'u1' } }],
};

t.test('resolveKubeconfig', async (t) => {
  const rows: { name: string; context?: string; cfg?: any; want?: object; wantError?: RegExp }[] = [
    { name: 'current context, token', want: { server: 'https://127.0.0.1:6443', caPem: 'CA-PEM', token: 'tok', namespace: 'team' } },
    { name: 'client certificate, default namespace', context: 'b', want: { certPem: 'CERT', keyPem: 'KEY', namespace: 'default' } },
    { name: 'unknown cluster names the list', context: 'bad', wantError: /clusters: no entry named "nope"/ },
    { name: 'unknown context', context: 'zzz', wantError: /contexts: no entry named "zzz"/ },
    { name: 'no current context', cfg: { ...baseCfg, 'current-context': undefined }, wantError: /current-context: Required value/ },
    { name: 'cluster without server', cfg: { ...baseCfg, clusters: [{ name: 'c1', cluster: {} }] }, wantError: /clusters\[c1\]\.server: Required value/ },
  ];
  for (const r of rows) {
    const run = () => resolveKubeconfig(r.cfg ?? baseCfg, { context: r.context });
    if (r.wantError) t.throws(run, r.wantError, r.name);
    else t.match(run(), r.want!, r.name);
  }
});

t.test('loadKubeconfig from files and $KUBECONFIG', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-client-kc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.crt'), 'FILE-CA');
  writeFileSync(join(dir, 'one.yaml'), JSON.stringify({ ...baseCfg, clusters: [{ name: 'c1', cluster: { server: 'https://10.0.0.1:1', 'certificate-authority': 'ca.crt' } }] }));
  writeFileSync(join(dir, 'two.yaml'), JSON.stringify({ ...baseCfg, 'current-context': 'b' }));
  writeFileSync(join(dir, 'broken.yaml'), 'a: [1\n');
  t.match(loadKubeconfig({ path: join(dir, 'one.yaml') }), { server: 'https://10.0.0.1:1', caPem: 'FILE-CA', token: 'tok' }, 'relative CA file resolves against the kubeconfig folder');
  // first file wins for current-context and for same-named entries
  t.match(loadKubeconfig({ env: { KUBECONFIG: `${join(dir, 'two.yaml')}:${join(dir, 'one.yaml')}` } }), { certPem: 'CERT' }, 'KUBECONFIG list merges, first wins');
  t.throws(() => loadKubeconfig({ path: join(dir, 'broken.yaml') }), KubeconfigError);
  t.throws(() => loadKubeconfig({ path: join(dir, 'missing.yaml') }), /no kubeconfig found: .*missing\.yaml: no such file/);
  t.same(kubeconfigPaths(undefined, { HOME: '/h' }), ['/h/.kube/config']);
  t.same(kubeconfigPaths('/x', { KUBECONFIG: '/y' }), ['/x']);
});

const R = (o: Partial<ApiResource> & { plural: string; kind: string }): ApiResource => ({
  group: '', version: 'v1', singular: o.kind.toLowerCase(), namespaced: true, shortNames: [], categories: [], verbs: [], subresources: [], preferred: true, ...o,
});
const resources = [
  R({ plural: 'pods', kind: 'Pod', shortNames: ['po'] }),
  R({ plural: 'events', kind: 'Event', shortNames: ['ev'] }),
  R({ group: 'events.k8s.io', plural: 'events', kind: 'Event' }),
  R({ group: 'apps', plural: 'deployments', kind: 'Deployment', shortNames: ['deploy'] }),
  R({ group: 'networking.istio.io', plural: 'gateways', kind: 'Gateway', shortNames: ['gw'] }),
  R({ group: 'gateway.networking.k8s.io', plural: 'gateways', kind: 'Gateway', shortNames: ['gtw'] }),
  R({ group: 'apps', version: 'v1beta1', plural: 'deployments', kind: 'Deployment', preferred: false }),
];

t.test('findResource: kubectl names', async (t) => {
  const rows: { name: string; want?: [string, string, string] }[] = [
    { name: 'pods', want: ['', 'v1', 'pods'] },
    { name: 'pod', want: ['', 'v1', 'pods'] },
    { name: 'po', want: ['', 'v1', 'pods'] },
    { name: 'Pod', want: ['', 'v1', 'pods'] },
    { name: 'deploy', want: ['apps', 'v1', 'deployments'] },
    { name: 'deployments.apps', want: ['apps', 'v1', 'deployments'] },
    { name: 'deployments.v1beta1.apps', want: ['apps', 'v1beta1', 'deployments'] },
    { name: 'events', want: ['', 'v1', 'events'] },
    { name: 'events.events.k8s.io', want: ['events.k8s.io', 'v1', 'events'] },
    { name: 'gateways.gateway.networking.k8s.io', want: ['gateway.networking.k8s.io', 'v1', 'gateways'] },
    { name: 'gtw', want: ['gateway.networking.k8s.io', 'v1', 'gateways'] },
    { name: 'nope' },
    { name: 'pods.nogroup' },
  ];
  for (const r of rows) {
    const hit = findResource(resources, r.name);
    t.same(hit ? [hit.group, hit.version, hit.plural] : undefined, r.want, r.name);
  }
});

async function* chunks(parts: (string | Buffer)[]) {
  for (const p of parts) yield p;
}
async function collect<T>(g: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

t.test('decodeLines: lines split anywhere, UTF-8 split mid-character', async (t) => {
  const euro = Buffer.from('€'); // 3 bytes
  const rows: { name: string; parts: (string | Buffer)[]; want: string[] }[] = [
    { name: 'one chunk', parts: ['a\nb\n'], want: ['a', 'b'] },
    { name: 'split lines', parts: ['{"x', '":1}\n{"y":', '2}\n'], want: ['{"x":1}', '{"y":2}'] },
    { name: 'unterminated tail', parts: ['a\nb'], want: ['a', 'b'] },
    { name: 'blank lines skipped', parts: ['\n\na\n\n'], want: ['a'] },
    { name: 'utf-8 split', parts: [Buffer.concat([Buffer.from('"'), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('"\n')])], want: ['"€"'] },
  ];
  for (const r of rows) t.same(await collect(decodeLines(chunks(r.parts))), r.want, r.name);
  const evs = await collect(decodeWatch(chunks(['{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"BOOK', 'MARK","object":{"metadata":{"resourceVersion":"9"}}}\n'])));
  t.same(evs.map((e) => e.type), ['ADDED', 'BOOKMARK']);
  await t.rejects(collect(decodeWatch(chunks(['not json\n']))), /malformed event "not json"/);
  await t.rejects(collect(decodeWatch(chunks(['{"object":{}}\n']))), /without type/);
});

t.test('errorFromResponse', async (t) => {
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', code: 404 };
  const rows: { name: string; code: number; body: string; want: { reason: string; code: number; message: RegExp } }[] = [
    { name: 'a Status body', code: 404, body: JSON.stringify(status), want: { reason: 'NotFound', code: 404, message: /^pods "x" not found$/ } },
    { name: 'plain text 503', code: 503, body: 'busy', want: { reason: 'ServiceUnavailable', code: 503, message: /HTTP 503: busy/ } },
    { name: 'empty 410', code: 410, body: '', want: { reason: 'Expired', code: 410, message: /HTTP 410$/ } },
  ];
  for (const r of rows) {
    const e = errorFromResponse(r.code, r.body);
    t.equal(e.reason, r.want.reason, r.name);
    t.equal(e.code, r.want.code, r.name);
    t.match(e.message, r.want.message, r.name);
  }
  t.ok(isNotFound(errorFromResponse(404, '')));
  t.ok(isExpired(errorFromResponse(410, '')));
  t.notOk(isExpired(new Error('x')));
});

t.test('queryString skips empty values and encodes', async (t) => {
  t.equal(queryString({ a: undefined, b: '', c: 'x=y,z', d: 5 }), '?c=x%3Dy%2Cz&d=5');
  t.equal(queryString({}), '');
});
