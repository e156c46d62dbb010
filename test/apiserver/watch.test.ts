// Watch streams over a real socket: initial state, ordered changes, selector transitions, resume from a
// resourceVersion, bookmarks, timeouts, and 410 Expired after compaction.
import t from 'tap';
import http from 'node:http';
import { harness, pod, TOKEN, type Harness } from './harness.js';

let h: Harness;
let base = '';
t.before(async () => {
  h = await harness();
  base = await h.server.app.listen({ host: '127.0.0.1', port: 0 });
});
t.teardown(async () => {
  await h?.close();
});

/** Open a watch; collect events until `until` returns true or `ms` passes. */
function watch(path: string, until: (evs: any[]) => boolean, ms = 5000, headers: Record<string, string> = {}): Promise<{ events: any[]; status: number; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    let buf = '';
    let status = 0;
    let done = false;
    const req = http.get(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
        if (!done && until(events)) finish(false);
      });
      res.on('end', () => finish(true));
    });
    const timer = setTimeout(() => finish(false), ms);
    function finish(ended: boolean) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ events, status, ended });
    }
    req.on('error', (e) => (done ? undefined : reject(e)));
  });
}

const P = '/api/v1/namespaces/default/pods';

t.test('initial ADDED events, then changes in order', async (t) => {
  await h.req('POST', P, pod('w1'));
  const got = watch(`${P}?watch=true`, (evs) => evs.some((e) => e.type === 'DELETED'));
  await new Promise((r) => setTimeout(r, 150));
  await h.req('POST', P, pod('w2'));
  const cur = (await h.req('GET', `${P}/w2`)).body;
  cur.metadata.labels.v = '2';
  await h.req('PUT', `${P}/w2`, cur);
  await h.req('DELETE', `${P}/w2`);
  const { events, status } = await got;
  t.equal(status, 200);
  t.same(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'ADDED w2', 'MODIFIED w2', 'DELETED w2']);
  const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
  t.same([...rvs].sort((a, b) => a - b), rvs, 'resourceVersions ascend');
  t.equal(events[2].object.metadata.labels.v, '2');
});

t.test('resume from a resourceVersion delivers exactly the later events', async (t) => {
  const a = await h.req('POST', P, pod('r1'));
  const rv = a.body.metadata.resourceVersion;
  await h.req('POST', P, pod('r2'));
  await h.req('POST', P, pod('r3'));
  const { events } = await watch(`${P}?watch=1&resourceVersion=${rv}`, (evs) => evs.length >= 2);
  t.same(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED r2', 'ADDED r3']);
});

t.test('label selector transitions map to ADDED and DELETED', async (t) => {
  const start = (await h.req('GET', P)).body.metadata.resourceVersion;
  const got = watch(`${P}?watch=true&resourceVersion=${start}&labelSelector=tier%3Dfront`, (evs) => evs.length >= 2);
  await new Promise((r) => setTimeout(r, 100));
  const c = await h.req('POST', P, pod('sel1', { tier: 'back' }));
  const o = structuredClone(c.body);
  o.metadata.labels.tier = 'front';
  const u = await h.req('PUT', `${P}/sel1`, o);
  const o2 = structuredClone(u.body);
  o2.metadata.labels.tier = 'back';
  await h.req('PUT', `${P}/sel1`, o2);
  const { events } = await got;
  t.same(events.map((e) => e.type), ['ADDED', 'DELETED']);
});

t.test('bookmarks and timeoutSeconds', async (t) => {
  const rv = (await h.req('GET', P)).body.metadata.resourceVersion;
  const { events, ended } = await watch(`${P}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`, () => false, 4000);
  t.ok(ended, 'server closed the stream after timeoutSeconds');
  t.ok(events.some((e) => e.type === 'BOOKMARK' && /^\d+$/.test(e.object.metadata.resourceVersion)), 'a bookmark arrived');
});

t.test('sendInitialEvents ends with the initial-events-end bookmark', async (t) => {
  const { events } = await watch(`${P}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`, (evs) => evs.some((e) => e.type === 'BOOKMARK'));
  const bm = events.find((e) => e.type === 'BOOKMARK');
  t.ok(bm);
  t.equal(bm.object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  t.ok(events.filter((e) => e.type === 'ADDED').length >= 1);
});

t.test('Table watch rows for kubectl get -w', async (t) => {
  const rv = (await h.req('GET', P)).body.metadata.resourceVersion;
  const got = watch(`${P}?watch=true&resourceVersion=${rv}`, (evs) => evs.length >= 1, 5000, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  await new Promise((r) => setTimeout(r, 100));
  await h.req('POST', P, pod('tw'));
  const { events } = await got;
  t.equal(events[0].object.kind, 'Table');
  t.equal(events[0].object.rows[0].cells[0], 'tw');
});

t.test('a resume from memory, and a compacted resourceVersion past the cache gets 410 Expired', async (t) => {
  const first = await h.req('POST', P, pod('c1'));
  const old = Number(first.body.metadata.resourceVersion);
  // a watcher resuming within the watch cache window is served from memory
  const recent = await watch(`${P}?watch=true&resourceVersion=${old - 1}`, (evs) => evs.length >= 1);
  t.equal(recent.events[0].object.metadata.name, 'c1');
  let last = first;
  for (let i = 2; i <= 30; i++) last = await h.req('POST', P, pod(`c${i}`)); // pushes c1 out of the 20-event window
  await h.store.compact(Number(last.body.metadata.resourceVersion));
  const { events } = await watch(`${P}?watch=true&resourceVersion=${old}`, (evs) => evs.length >= 1);
  t.equal(events[0].type, 'ERROR');
  t.match(events[0].object, { kind: 'Status', code: 410, reason: 'Expired' });
  const list = await h.req('GET', `${P}?resourceVersion=${old}&resourceVersionMatch=Exact`);
  t.equal(list.status, 410);
});
