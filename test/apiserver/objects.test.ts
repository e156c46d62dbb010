// ObjectStore's encoding: resourceVersion is never stored, and lists splice it into the stored JSON
// without parsing; values in an unexpected layout fall back to parsing. Table-driven.
import t from 'tap';
import { ObjectStore } from '../../control-plane/apiserver/storage/objects.js';

const os = new ObjectStore({} as any);

t.test('encode puts apiVersion, kind, metadata first and drops resourceVersion', async (t) => {
  const s = os.encode({ spec: { template: { metadata: { labels: { a: 'b' } } } }, kind: 'Deployment', metadata: { name: 'w', resourceVersion: '9' }, apiVersion: 'apps/v1' });
  t.equal(s, '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"},"spec":{"template":{"metadata":{"labels":{"a":"b"}}}}}');
});

const rows: { name: string; value: string; want: unknown }[] = [
  { name: 'canonical', value: '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}', want: { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '42', name: 'p' }, spec: {} } },
  { name: 'empty metadata', value: '{"apiVersion":"v1","kind":"Pod","metadata":{}}', want: { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '42' } } },
  { name: 'spec first (old layout): parsed, nested metadata untouched', value: '{"spec":{"template":{"metadata":{"name":"t"}}},"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}}', want: { spec: { template: { metadata: { name: 't' } } }, apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', resourceVersion: '42' } } },
  { name: 'a string that looks like metadata', value: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"\\"metadata\\":{"}}', want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: '42', name: 'c' }, data: { x: '"metadata":{' } } },
];
for (const r of rows) {
  t.test(`withRevision: ${r.name}`, async (t) => {
    const out = os.withRevision(r.value, 42);
    t.same(JSON.parse(out), r.want);
    t.equal(JSON.parse(out).metadata.resourceVersion, '42');
  });
}
