// The Informer against a real server: initial sync, live events, watch restarts after a server-side
// timeout (no event missed or repeated), and a partition long enough for the history to be compacted:
// the re-watch gets 410 Expired, the informer re-lists, and the handlers see exactly what changed.
// A TCP proxy on 127.0.0.1 between client and server lets the test cut and restore the connection.

import { waitFor } from '../wait.js';
import t from 'tap';
import net from 'node:net';
import { KubeClient } from '../../api/client/client.js';
import { Informer, keyOf } from '../../api/client/informer.js';
import type { KubeObject } from '../../api/meta.js';
import { startCluster } from './fixture.js';

const cm = { apiVersion: 'v1', plural: 'configmaps', namespaced: true };
const mk = (name: string, ns = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { v: '0' } });

/** A TCP proxy that can drop every connection and refuse new ones. */
async function startProxy(port: number) {
  const sockets = new Set<net.Socket>();
  let blocked = false;
  const server = net.createServer((down) => {
    if (blocked) return void down.destroy();
    const up = net.connect(port, '127.0.0.1');
    sockets.add(down).add(up);
    const drop = () => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      blocked = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      blocked = false;
    },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

const until = (what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 10_000) => waitFor(what, pred, timeoutMs, 25);

function recorder(inf: Informer) {
  const log: string[] = [];
  inf.addEventHandler({
    onAdd: (o) => log.push(`add ${keyOf(o)}`),
    onUpdate: (_old, o) => log.push(`update ${keyOf(o)} ${o.data?.v}`),
    onDelete: (o) => log.push(`delete ${keyOf(o)}`),
  });
  return log;
}

t.test('informer', async (t) => {
  const cluster = await startCluster('shoalt-client-inf-');
  t.teardown(() => cluster.close());
  const admin = cluster.client();

  t.test('sync, live events, handler added late, stop', async (t) => {
    for (const n of ['a', 'b']) await admin.create(cm, mk(n, 'kube-system'));
    const c = cluster.client();
    const inf = new Informer(c, cm, { namespace: 'kube-system', onError: () => {} });
    const log = recorder(inf);
    t.notOk(inf.hasSynced());
    inf.start();
    await inf.waitForSync(5000);
    t.same(log.sort(), ['add kube-system/a', 'add kube-system/b']);
    await admin.patch(cm, 'a', { data: { v: '1' } }, { type: 'merge', namespace: 'kube-system' });
    await admin.delete(cm, 'b', { namespace: 'kube-system' });
    await until('events', () => log.length === 4);
    t.same(log.slice(2), ['update kube-system/a 1', 'delete kube-system/b']);
    const late: string[] = [];
    inf.addEventHandler({ onAdd: (o) => late.push(keyOf(o)) });
    t.same(late, ['kube-system/a'], 'a late handler gets the cache as adds');
    t.same(inf.keys(), ['kube-system/a']);
    t.equal(inf.get('kube-system/a')?.data?.v, '1');
    await inf.stop();
    await admin.create(cm, mk('after-stop', 'kube-system'));
    await new Promise((r) => setTimeout(r, 300));
    t.equal(log.length, 4, 'no events after stop()');
  });

  t.test('watch restarts after timeouts: every update exactly once, no re-list', async (t) => {
    await admin.create(cm, mk('counter'));
    const c = cluster.client();
    // a 1-2 s server timeout so the watch is re-opened several times during the updates
    const inf = new Informer(c, cm, { namespace: 'default', fieldSelector: 'metadata.name=counter', minWatchTimeoutSeconds: 1, onError: () => {} });
    const updates: number[] = [];
    inf.addEventHandler({ onUpdate: (_o, n) => updates.push(Number(n.data.v)) });
    inf.start();
    t.teardown(() => inf.stop());
    await inf.waitForSync(5000);
    const N = 30;
    for (let i = 1; i <= N; i++) {
      await admin.patch(cm, 'counter', { data: { v: String(i) } }, { type: 'merge' });
      await new Promise((r) => setTimeout(r, 100));
    }
    await until('all updates', () => updates.length >= N);
    await new Promise((r) => setTimeout(r, 200));
    t.same(updates, Array.from({ length: N }, (_, i) => i + 1), 'each update once, in order');
    t.ok(inf.watchCount >= 2, `the watch was re-opened (${inf.watchCount} watches)`);
    t.equal(inf.listCount, 1, 'resuming from the last resourceVersion needs no re-list');
  });

  t.test('partition + compaction: 410, re-list, exactly the missed changes', async (t) => {
    // its own server, with a watch cache of 3 events: the 7 writes below push the informer's
    // resourceVersion out of it, so the re-watch reaches the compacted store and gets 410
    const cluster = await startCluster('shoalt-client-inf410-', { watchCacheSize: 3 });
    t.teardown(() => cluster.close());
    const admin = cluster.client();
    await admin.create({ apiVersion: 'v1', kind: 'Namespace' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'part' } });
    for (const n of ['a', 'b', 'c', 'd']) await admin.create(cm, mk(n, 'part'));
    const proxy = await startProxy(Number(new URL(cluster.url).port));
    t.teardown(() => proxy.close());
    const c = new KubeClient({ server: `https://127.0.0.1:${proxy.port}`, caPem: cluster.caPem, token: cluster.token });
    t.teardown(() => c.close());
    const errors: unknown[] = [];
    const inf = new Informer(c, cm, { namespace: 'part', initialBackoffMs: 50, maxBackoffMs: 200, onError: (e) => errors.push(e) });
    const log = recorder(inf);
    inf.start();
    t.teardown(() => inf.stop());
    await inf.waitForSync(5000);
    t.equal(log.length, 4);

    proxy.cut();
    const part = { type: 'merge' as const, namespace: 'part' };
    await admin.patch(cm, 'b', { data: { v: '1' } }, part);
    await admin.delete(cm, 'c', { namespace: 'part' });
    await admin.create(cm, mk('e', 'part'));
    await admin.delete(cm, 'd', { namespace: 'part' });
    await admin.create(cm, { ...mk('d', 'part'), data: { v: 'new' } });
    await admin.create(cm, mk('f', 'part'));
    await admin.delete(cm, 'f', { namespace: 'part' });
    await cluster.server.objects.store.compact(await cluster.server.objects.store.currentRevision());
    await new Promise((r) => setTimeout(r, 300)); // the informer retries against the closed proxy meanwhile
    proxy.restore();

    await until('re-list', () => inf.listCount === 2);
    const server = await admin.list(cm, { namespace: 'part' });
    await until('cache equals the server', () => JSON.stringify(inf.list().map((o) => [keyOf(o), o.metadata.resourceVersion]).sort()) === JSON.stringify(server.items.map((o) => [keyOf(o), o.metadata.resourceVersion]).sort()));
    t.same(log.slice(4).sort(), ['add part/d', 'add part/e', 'delete part/c', 'delete part/d', 'update part/b 1'].sort(), 'exactly the changes missed, nothing for f');
    t.ok(errors.length >= 1, 'connection failures were reported to onError');

    const before = log.length;
    await admin.patch(cm, 'a', { data: { v: '2' } }, part);
    await until('live again', () => log.length === before + 1);
    t.same(log.slice(before), ['update part/a 2'], 'watch resumed after the re-list');
  });
});
