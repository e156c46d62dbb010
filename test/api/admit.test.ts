// admit(): the Status a bad body gets (400 for unknown kind/apiVersion, 422 with causes for invalid),
// and ObjectMeta validation rows.

import t from 'tap';
import { admit } from '../../api/admit.js';
import { formatFieldError } from '../../api/field.js';
import { validateObjectMeta } from '../../api/validate-meta.js';
import { fixture } from './fixtures/manifests.js';

t.test('bad bodies get the Status Kubernetes sends', async (t) => {
  const rows: { name: string; body: unknown; code: number; reason: string; message: RegExp }[] = [
    { name: 'unknown kind', body: { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'a' } }, code: 400, reason: 'BadRequest', message: /no kind "Widget" is registered for version "v1"/ },
    { name: 'unknown apiVersion', body: { apiVersion: 'apps/v2', kind: 'Deployment', metadata: { name: 'a' } }, code: 400, reason: 'BadRequest', message: /no kind "Deployment" is registered for version "apps\/v2"/ },
    { name: 'missing kind', body: { apiVersion: 'v1', metadata: {} }, code: 400, reason: 'BadRequest', message: /Object 'Kind' is missing/ },
    { name: 'missing apiVersion', body: { kind: 'Pod' }, code: 400, reason: 'BadRequest', message: /Object 'apiVersion' is missing/ },
    { name: 'not an object', body: [1], code: 400, reason: 'BadRequest', message: /must be a JSON or YAML object/ },
    {
      name: 'invalid name',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'default' } },
      code: 422,
      reason: 'Invalid',
      message: /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    },
  ];
  for (const r of rows) {
    const res = admit(r.body);
    t.notOk(res.ok, r.name);
    if (res.ok) continue;
    const st = res.error.toStatus();
    t.equal(st.code, r.code, `${r.name}: code`);
    t.equal(st.reason, r.reason, `${r.name}: reason`);
    t.match(st.message, r.message, `${r.name}: message`);
  }
});

t.test('422 lists every cause with its field', async (t) => {
  const o = fixture('apps/Deployment');
  o.spec.template.spec.containers[0].imagee = 'x';
  o.spec.template.spec.containers[0].ports[1].containerPort = 0;
  const res = admit(o);
  t.notOk(res.ok);
  if (res.ok) return;
  const st = res.error.toStatus();
  t.equal(st.code, 422);
  t.same(st.details?.kind, 'Deployment');
  t.same(st.details?.group, 'apps');
  t.same(
    st.details?.causes?.map((c) => [c.reason, c.field]),
    [
      ['FieldValueInvalid', 'spec.template.spec.containers[0].imagee'],
      ['FieldValueInvalid', 'spec.template.spec.containers[0].ports[1].containerPort'],
    ],
  );
});

t.test('admit returns a defaulted copy and leaves the input alone', async (t) => {
  const o = fixture('/Service');
  const res = admit(o);
  t.ok(res.ok);
  if (!res.ok) return;
  t.equal(res.obj.spec.type, 'ClusterIP');
  t.equal(o.spec.type, undefined);
});

t.test('ObjectMeta rows', async (t) => {
  const ns = { namespaced: true };
  const cluster = { namespaced: false };
  const rows: { name: string; meta: any; rt: { namespaced: boolean; nameValidation?: 'DNS1123Label' }; want: string[] }[] = [
    { name: 'ok', meta: { name: 'a.b', namespace: 'default' }, rt: ns, want: [] },
    { name: 'generateName ok', meta: { generateName: 'web-', namespace: 'default' }, rt: ns, want: [] },
    { name: 'no name', meta: { namespace: 'default' }, rt: ns, want: ['metadata.name: Required value: name or generateName is required'] },
    { name: 'cluster-scoped with namespace', meta: { name: 'a', namespace: 'x' }, rt: cluster, want: ['metadata.namespace: Forbidden: not allowed on this type'] },
    {
      name: 'bad label key and value',
      meta: { name: 'a', namespace: 'd', labels: { 'bad key': 'v', ok: '-bad' } },
      rt: ns,
      want: [
        "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        "metadata.labels[ok]: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      ],
    },
    { name: 'annotations too large', meta: { name: 'a', namespace: 'd', annotations: { big: 'x'.repeat(256 * 1024) } }, rt: ns, want: ['metadata.annotations: Too long: may not be more than 262144 bytes'] },
    {
      name: 'two controllers',
      meta: {
        name: 'a',
        namespace: 'd',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: '1', controller: true },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 's', uid: '2', controller: true },
        ],
      },
      rt: ns,
      want: ['metadata.ownerReferences: Invalid value: 2: Only one reference can have Controller set to true'],
    },
  ];
  for (const r of rows) t.same(validateObjectMeta({ apiVersion: 'v1', kind: 'X', metadata: r.meta }, r.rt).map(formatFieldError), r.want, r.name);
});
