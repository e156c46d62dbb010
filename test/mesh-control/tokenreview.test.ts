// authentication.k8s.io/v1 TokenReview on the API server, driven by the real kubectl (`create --raw`,
// `api-resources`) and by @kubernetes/client-node: a ServiceAccount token authenticates as
// system:serviceaccount:<ns>:<sa> with its uid, groups and audiences; a tampered token, a token of a
// deleted (or re-created) ServiceAccount and a foreign audience do not; an empty token is a 400.
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { R, startApi, type MeshApi } from './fixture.js';

// kubectl runs asynchronously: the API server is in this process
const kubectl = async (...args: string[]) => (await promisify(execFile)('kubectl', args, { encoding: 'utf8' })).stdout;
let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

t.test('TokenReview', async (t) => {
  const api: MeshApi = await startApi('shoalt-tokenreview-');
  t.teardown(() => api.close());
  const token = await api.tokenFor('shop', 'web');
  const sa: any = await api.client.get(R.serviceaccounts, 'web', { namespace: 'shop' });
  const review = (tok: string, audiences?: string[]) => api.client.create({ apiVersion: 'authentication.k8s.io/v1', plural: 'tokenreviews', namespaced: false }, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token: tok, ...(audiences ? { audiences } : {}) } } as any) as Promise<any>;

  await t.test('kubectl create --raw and api-resources', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
    const body = join(api.home, 'tr.json');
    writeFileSync(body, JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }));
    const out = JSON.parse(await kubectl('--kubeconfig', api.kubeconfigPath, 'create', '--raw', '/apis/authentication.k8s.io/v1/tokenreviews', '-f', body));
    t.equal(out.kind, 'TokenReview');
    t.equal(out.status.authenticated, true);
    t.same(out.status.user, { username: 'system:serviceaccount:shop:web', uid: sa.metadata.uid, groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] });
    t.same(out.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
    const res = await kubectl('--kubeconfig', api.kubeconfigPath, 'api-resources', '--api-group', 'authentication.k8s.io', '-o', 'wide');
    t.match(res, /tokenreviews\s+authentication\.k8s\.io\/v1\s+false\s+TokenReview\s+create/);
  });

  await t.test('client-node createTokenReview', async (t) => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
    const r = await authn.createTokenReview({ body: { spec: { token, audiences: ['https://kubernetes.default.svc.cluster.local', 'other'] } } });
    t.equal(r.status?.authenticated, true);
    t.equal(r.status?.user?.username, 'system:serviceaccount:shop:web');
    t.same(r.status?.audiences, ['https://kubernetes.default.svc.cluster.local'], 'the audiences both sides share');
  });

  await t.test('refusals', async (t) => {
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bad = await review(tampered);
    t.equal(bad.status.authenticated, false);
    t.match(bad.status.error, /invalid bearer token/);
    const aud = await review(token, ['istio-ca']);
    t.equal(aud.status.authenticated, false);
    t.match(aud.status.error, /token audiences .* is invalid for the target audiences \["istio-ca"\]/);
    const err: any = await review('').catch((e) => e);
    t.equal(err.code, 400);
    t.match(err.message, /token is required/);
    await api.client.delete(R.serviceaccounts, 'web', { namespace: 'shop' });
    const gone = await review(token);
    t.equal(gone.status.authenticated, false);
    t.match(gone.status.error, /service account shop\/web has been deleted/);
    await api.client.create(R.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } } as any, { namespace: 'shop' });
    const recreated = await review(token);
    t.equal(recreated.status.authenticated, false, 'a re-created account does not inherit old tokens');
    t.match(recreated.status.error, /UID .* does not match/);
    const admin = await review((api.client as any).config.token);
    t.equal(admin.status.authenticated, true, 'static tokens review too');
  });
});
