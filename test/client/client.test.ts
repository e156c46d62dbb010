// KubeClient against a real API server started in-process (127.0.0.1, port 0, temp SQLite): every verb,
// selectors, pagination, patch types, dry run, the scale subresource, Status errors with causes, discovery,
// watches with bookmarks, timeouts and abort.

import t from 'tap';
import { KubeClient, refOf } from '../../api/client/client.js';
import { KubeApiError, isAlreadyExists, isConflict, isNotFound } from '../../api/client/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { startCluster } from './fixture.js';

const cm = { apiVersion: 'v1', plural: 'configmaps' };
const deployments = { apiVersion: 'apps/v1', kind: 'Deployment' };

function deployment(name: string, replicas = 1): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  };
}

t.test('client against a real server', async (t) => {
  const cluster = await startCluster('shoalt-client-');
  t.teardown(() => cluster.close());
  const c = cluster.client();

  t.test('from the kubeconfig file', async (t) => {
    const k = KubeClient.fromKubeconfig(cluster.kubeconfigPath);
    t.teardown(() => k.close());
    t.equal(k.namespace, 'default');
    t.match(await k.version(), { gitVersion: /^v1\./ });
  });

  t.test('wrong token is a 401 KubeApiError', async (t) => {
    const k = new KubeClient({ server: cluster.url, caPem: cluster.caPem, token: 'wrong' });
    t.teardown(() => k.close());
    const e = await k.get(cm, 'x').catch((e) => e);
    t.ok(e instanceof KubeApiError);
    t.equal(e.code, 401);
    t.equal(e.reason, 'Unauthorized');
  });

  t.test('an untrusted CA fails to connect with a clear message', async (t) => {
    const k = new KubeClient({ server: cluster.url, token: cluster.token });
    t.teardown(() => k.close());
    await t.rejects(k.version(), /Unable to connect to the server: https:\/\/127\.0\.0\.1:\d+\/version/);
  });

  t.test('create, get, update, conflict, delete', async (t) => {
    const created = await c.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } });
    t.equal(created.metadata.namespace, 'default');
    t.ok(created.metadata.uid);
    const again = await c.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }).catch((e) => e);
    t.ok(isAlreadyExists(again), 'AlreadyExists');
    t.equal(again.status.details?.name, 'a');
    const got = await c.get(cm, 'a');
    t.same(got.data, { k: 'v' });
    const updated = await c.update(cm, { ...got, data: { k: 'w' } });
    t.not(updated.metadata.resourceVersion, got.metadata.resourceVersion);
    const stale = await c.update(cm, { ...got, data: { k: 'stale' } }).catch((e) => e);
    t.ok(isConflict(stale), 'stale resourceVersion is a Conflict');
    await c.delete(cm, 'a');
    t.ok(isNotFound(await c.get(cm, 'a').catch((e) => e)), 'gone after delete');
    const missing = await c.delete(cm, 'a').catch((e) => e);
    t.equal(missing.message, 'configmaps "a" not found');
  });

  t.test('Invalid carries the field causes', async (t) => {
    const e = await c.create(deployments, deployment('bad', -1)).catch((e) => e);
    t.ok(e instanceof KubeApiError);
    t.equal(e.code, 422);
    t.equal(e.reason, 'Invalid');
    t.ok(e.causes.some((x: { field?: string }) => x.field === 'spec.replicas'), 'cause names spec.replicas');
  });

  t.test('dry run persists nothing', async (t) => {
    const o = await c.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' } }, { dryRun: true });
    t.equal(o.metadata.name, 'dry');
    t.ok(isNotFound(await c.get(cm, 'dry').catch((e) => e)));
  });

  t.test('list with selectors and pagination', async (t) => {
    await c.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: 'kube-system', labels: { tier: 'x' } } });
    for (let i = 0; i < 7; i++) await c.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `p${i}`, labels: { tier: i % 2 ? 'odd' : 'even' } } });
    const page = await c.list(cm, { namespace: 'default', limit: 3 });
    t.equal(page.items.length, 3);
    t.ok(page.metadata.continue, 'first page has a continue token');
    const all = await c.listAll(cm, { namespace: 'default', pageSize: 2 });
    t.same(all.items.map((o) => o.metadata.name), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const odd = await c.list(cm, { namespace: 'default', labelSelector: 'tier=odd' });
    t.same(odd.items.map((o) => o.metadata.name), ['p1', 'p3', 'p5']);
    const byName = await c.list(cm, { namespace: 'default', fieldSelector: 'metadata.name=p4' });
    t.same(byName.items.map((o) => o.metadata.name), ['p4']);
    const everywhere = await c.list(cm, { labelSelector: 'tier' });
    t.ok(everywhere.items.some((o) => o.metadata.namespace === 'kube-system'), 'no namespace = all namespaces');
    const bad = await c.list(cm, { labelSelector: 'a in (' }).catch((e) => e);
    t.equal(bad.code, 400);
    await c.deleteCollection(cm, { namespace: 'default', labelSelector: 'tier=even' });
    t.same((await c.list(cm, { namespace: 'default' })).items.map((o) => o.metadata.name), ['p1', 'p3', 'p5']);
  });

  t.test('patch: merge, strategic, apply; by kind through discovery', async (t) => {
    await c.create(deployments, deployment('web'));
    const merged = await c.patch(deployments, 'web', { metadata: { labels: { extra: 'yes' } } }, { type: 'merge' });
    t.same(merged.metadata.labels, { app: 'web', extra: 'yes' });
    const strategic = await c.patch(deployments, 'web', { spec: { replicas: 2 } }, { type: 'strategic' });
    t.equal(strategic.spec.replicas, 2);
    const applied = await c.patch(deployments, 'applied', deployment('applied', 3), { type: 'apply', fieldManager: 'test' });
    t.equal(applied.spec.replicas, 3, 'server-side apply creates');
    const scale = await c.scale(deployments, 'web', 4);
    t.equal(scale.spec.replicas, 4);
    t.equal((await c.getScale(deployments, 'web')).spec.replicas, 4);
    t.equal((await c.get(refOf(deployment('web')), 'web')).spec.replicas, 4);
  });

  t.test('status subresource: updateStatus changes only status', async (t) => {
    const cur = await c.get(deployments, 'web');
    const next = await c.updateStatus(deployments, { ...cur, spec: { ...cur.spec, replicas: 9 }, status: { replicas: 4, observedGeneration: 1 } });
    t.equal(next.status.replicas, 4);
    t.equal(next.spec.replicas, 4, 'spec ignored on /status');
  });

  t.test('Table form for kubectl printing', async (t) => {
    const tbl = await c.table(deployments, { namespace: 'default' });
    t.equal(tbl.kind, 'Table');
    t.equal(tbl.columnDefinitions[0]!.name, 'Name');
    t.ok(tbl.rows.some((r) => r.cells[0] === 'web'));
  });

  t.test('cluster-scoped resources ignore the namespace', async (t) => {
    const ns = await c.create({ apiVersion: 'v1', kind: 'Namespace' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    t.equal(ns.metadata.name, 'team-a');
    t.equal((await c.get({ apiVersion: 'v1', plural: 'namespaces' }, 'team-a')).metadata.name, 'team-a');
  });

  t.test('unknown kind names the kind and version', async (t) => {
    await t.rejects(c.get({ apiVersion: 'v1', kind: 'Nope' }, 'x'), /no matches|resource mapping not found for kind "Nope" in version "v1"/);
  });

  t.test('watch: events in order, bookmarks, timeoutSeconds, abort', async (t) => {
    const start = await c.list(cm, { namespace: 'default' });
    const abort = new AbortController();
    const seen: string[] = [];
    let bookmarks = 0;
    const done = (async () => {
      for await (const ev of c.watch(cm, { namespace: 'default', resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: true, signal: abort.signal })) {
        if (ev.type === 'BOOKMARK') {
          bookmarks++;
          if (seen.length === 3) abort.abort();
          continue;
        }
        seen.push(`${ev.type} ${ev.object.metadata.name}`);
      }
    })();
    await c.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w' } });
    await c.patch(cm, 'w', { data: { a: 'b' } }, { type: 'merge' });
    await c.delete(cm, 'w');
    await done; // ends on the first bookmark after the three events (the fixture sends one a second)
    t.same(seen, ['ADDED w', 'MODIFIED w', 'DELETED w']);
    t.ok(bookmarks >= 1, 'bookmarks arrive');

    const t0 = Date.now();
    const evs: string[] = [];
    for await (const ev of c.watch(cm, { namespace: 'nowhere', resourceVersion: start.metadata.resourceVersion, timeoutSeconds: 1 })) evs.push(ev.type);
    t.same(evs, [], 'nothing in an empty namespace');
    t.ok(Date.now() - t0 >= 900, 'server ends the watch after timeoutSeconds');

    const aborted = new AbortController();
    aborted.abort();
    const none: string[] = [];
    for await (const ev of c.watch(cm, { namespace: 'default', signal: aborted.signal })) none.push(ev.type);
    t.same(none, [], 'an aborted watch returns quietly');
  });

  t.test('watch from a compacted resourceVersion is 410', async (t) => {
    // secrets were never watched on this server, so its watch cache starts now and the old
    // resourceVersion goes to the store, whose history is compacted
    const secrets = { apiVersion: 'v1', plural: 'secrets', namespaced: true };
    const rv = Number((await c.list(secrets)).metadata.resourceVersion);
    await c.create(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'compact-me' } });
    await cluster.server.objects.store.compact(rv + 1);
    const events: string[] = [];
    let err: unknown;
    try {
      for await (const ev of c.watch(secrets, { resourceVersion: String(rv - 1), timeoutSeconds: 5 })) {
        events.push(ev.type);
        if (ev.type === 'ERROR') t.equal((ev.object as any).code, 410);
      }
    } catch (e) {
      err = e;
    }
    t.ok(events.includes('ERROR') || (err instanceof KubeApiError && err.code === 410), '410 as an ERROR event or a 410 answer');
  });
});
