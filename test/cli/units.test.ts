// Unit tests of the CLI's pure parts, table-driven: flag parsing, Table formatting, manifest loading and
// its file/line/column errors, the client-side apply patch, label changes, describe's field titles.

import t from 'tap';
import { parseArgs, parseDuration, splitCommand, globalFlags, type FlagSpec } from '../../cli/args.js';
import { formatTable, cellText } from '../../cli/printers/table.js';
import { formatObjects, resourceName } from '../../cli/printers/objects.js';
import { parseManifest, expandPaths, type ManifestFs } from '../../cli/manifest/load.js';
import { threeWayMergePatch, withLastApplied, lastApplied, LAST_APPLIED } from '../../cli/apply/three-way.js';
import { metaPatch, parseChanges } from '../../cli/commands/label.js';
import { titleCase, describeEvents } from '../../cli/commands/describe.js';
import { stripComments } from '../../cli/commands/edit.js';
import { formatError } from '../../cli/errors.js';
import { errorFromResponse } from '../../api/client/errors.js';
import type { Table } from '../../api/client/client.js';

const specs: FlagSpec[] = [
  ...globalFlags,
  { name: 'output', short: 'o', type: 'string', help: '', values: ['yaml', 'json', 'wide', 'name'] },
  { name: 'all-namespaces', short: 'A', type: 'bool', help: '' },
  { name: 'filename', short: 'f', type: 'strings', help: '' },
  { name: 'replicas', type: 'int', help: '' },
  { name: 'dry-run', type: 'bool', help: '', values: ['server', 'none'], optionalValue: 'server' },
];

t.test('parseArgs', async (t) => {
  const rows: { argv: string[]; flags?: object; positionals?: string[]; problems?: string[] }[] = [
    { argv: ['pods', '-n', 'kube-system'], flags: { namespace: 'kube-system' }, positionals: ['pods'] },
    { argv: ['-nkube-system', '-oyaml'], flags: { namespace: 'kube-system', output: 'yaml' } },
    { argv: ['-o=json', '--namespace=x'], flags: { output: 'json', namespace: 'x' } },
    { argv: ['-A', 'pods'], flags: { 'all-namespaces': true }, positionals: ['pods'] },
    { argv: ['--all-namespaces=false'], flags: { 'all-namespaces': false } },
    { argv: ['-f', 'a.yaml', '-f', '-', '--filename=dir'], flags: { filename: ['a.yaml', '-', 'dir'] } },
    { argv: ['--replicas=3'], flags: { replicas: 3 } },
    { argv: ['--dry-run=server'], flags: { 'dry-run': 'server' } },
    { argv: ['--dry-run'], flags: { 'dry-run': true } },
    { argv: ['--request-timeout=1m30s'], flags: { 'request-timeout': 90 } },
    { argv: ['--', '-x', 'y'], positionals: ['-x', 'y'] },
    { argv: ['-'], positionals: ['-'] },
    // every problem at once
    { argv: ['--bogus', '-x', '-o', 'xml', '--replicas=two', '--namespace'], problems: ['unknown flag: --bogus', "unknown shorthand flag: 'x' in -x", 'invalid argument "xml" for "-o, --output" flag: must be one of yaml, json, wide, name', 'invalid argument "two" for "--replicas" flag: must be an integer', 'flag needs an argument: --namespace'] },
    { argv: ['--dry-run=client'], problems: ['invalid argument "client" for "--dry-run" flag: must be one of server, none'] },
    { argv: ['-AR'], problems: ['unknown shorthand flag cluster: -AR'] },
  ];
  for (const r of rows) {
    const p = parseArgs(r.argv, specs);
    const name = r.argv.join(' ');
    t.same(p.problems, r.problems ?? [], `${name}: problems`);
    if (r.flags) t.match(p.flags, r.flags, `${name}: flags`);
    if (r.positionals) t.same(p.positionals, r.positionals, `${name}: positionals`);
  }
});

t.test('splitCommand and parseDuration', async (t) => {
  t.same(splitCommand(['-n', 'x', 'get', 'pods']), { command: 'get', rest: ['-n', 'x', 'pods'] });
  t.same(splitCommand(['--kubeconfig', '/k', '-A', 'get']), { command: 'get', rest: ['--kubeconfig', '/k', '-A'] });
  t.same(splitCommand(['-A']), { command: undefined, rest: ['-A'] });
  const d: [string, number | undefined][] = [['30', 30], ['30s', 30], ['5m', 300], ['1h2m3s', 3723], ['500ms', 0.5], ['x', undefined], ['5q', undefined], ['', undefined]];
  for (const [s, want] of d) t.equal(parseDuration(s), want, s);
});

const podTable: Table = {
  kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {},
  columnDefinitions: [
    { name: 'Name', type: 'string', format: 'name', priority: 0 },
    { name: 'Ready', type: 'string', priority: 0 },
    { name: 'Status', type: 'string', priority: 0 },
    { name: 'Restarts', type: 'integer', priority: 0 },
    { name: 'Age', type: 'string', priority: 0 },
    { name: 'IP', type: 'string', priority: 1 },
  ],
  rows: [
    { cells: ['web-7d4b9c-x2x9z', '1/1', 'Running', 0, '5m', '10.244.0.7'], object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-7d4b9c-x2x9z', namespace: 'default', labels: { b: '2', a: '1' } } } },
    { cells: ['db', '0/1', 'Pending', 12, '3h', null], object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', namespace: 'prod' } } },
  ],
};

t.test('formatTable: kubectl alignment and options', async (t) => {
  const rows: { name: string; o: object; want: string }[] = [
    {
      name: 'default columns', o: {},
      want: 'NAME               READY   STATUS    RESTARTS   AGE\nweb-7d4b9c-x2x9z   1/1     Running   0          5m\ndb                 0/1     Pending   12         3h\n',
    },
    {
      name: 'wide adds priority 1, null cell empty', o: { wide: true },
      want: 'NAME               READY   STATUS    RESTARTS   AGE   IP\nweb-7d4b9c-x2x9z   1/1     Running   0          5m    10.244.0.7\ndb                 0/1     Pending   12         3h    \n',
    },
    {
      name: 'all namespaces, no headers, kind prefix', o: { withNamespace: true, noHeaders: true, kindPrefix: 'pod' },
      want: 'default   pod/web-7d4b9c-x2x9z   1/1   Running   0     5m\nprod      pod/db                 0/1   Pending   12    3h\n',
    },
    {
      name: 'show labels sorted', o: { showLabels: true },
      want: 'NAME               READY   STATUS    RESTARTS   AGE   LABELS\nweb-7d4b9c-x2x9z   1/1     Running   0          5m    a=1,b=2\ndb                 0/1     Pending   12         3h    <none>\n',
    },
  ];
  for (const r of rows) t.equal(formatTable(podTable, r.o), r.want, r.name);
  t.equal(cellText('line1\nline2'), 'line1');
  t.equal(cellText(true), 'true');
});

t.test('-o yaml/json/name', async (t) => {
  const o = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', managedFields: [{ manager: 'x' }], labels: { z: '1', a: '2' } }, spec: { template: { spec: { containers: [{ name: 'c' }] } } } };
  t.equal(formatObjects([o], 'yaml', false), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    a: "2"\n    z: "1"\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n');
  t.match(formatObjects([o, o], 'json', true), /^\{\n {4}"apiVersion": "v1",\n {4}"items": \[/);
  t.notMatch(formatObjects([o], 'json', false), /managedFields/);
  t.equal(formatObjects([o, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }], 'name', true), 'deployment.apps/web\npod/p\n');
  t.equal(resourceName({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r' } }), 'virtualservice.networking.istio.io/r');
});

t.test('parseManifest: documents, JSON, Lists and errors with file/line/column', async (t) => {
  const ok: { name: string; text: string; source: string; want: string[] }[] = [
    { name: 'multi-document YAML, empty docs skipped', source: 'a.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n', want: ['ConfigMap/a', 'Service/b'] },
    { name: 'JSON', source: 'a.json', text: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}', want: ['ConfigMap/j'] },
    { name: 'List expands', source: 'l.yaml', text: 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: y}}\n', want: ['ConfigMap/x', 'ConfigMap/y'] },
  ];
  for (const r of ok) t.same(parseManifest(r.text, r.source).map((d) => `${d.object.kind}/${d.object.metadata.name}`), r.want, r.name);
  const bad: { name: string; text: string; source: string; want: string | RegExp }[] = [
    { name: 'bad indentation', source: 'app.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n c: d\n', want: 'error parsing app.yaml: line 7, column 1: All mapping items must start at the same column' },
    { name: 'tab indentation', source: 'tab.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n', want: /^error parsing tab\.yaml: line 4, column 1: Tabs are not allowed/ },
    { name: 'duplicate key', source: 'dup.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nkind: Service\n', want: /^error parsing dup\.yaml: line 3, column 1: Map keys must be unique$/ },
    { name: 'second document', source: 'two.yaml', text: 'apiVersion: v1\nkind: A\n---\nx: [1\n', want: /^error parsing two\.yaml: line 5, column 1: / },
    { name: 'JSON syntax', source: 'bad.json', text: '{\n  "apiVersion": "v1",\n  "kind": }\n', want: 'error parsing bad.json: line 3, column 11: invalid character "}"' },
    { name: 'JSON cut short', source: 'cut.json', text: '{"a": [1,', want: 'error parsing cut.json: line 1, column 10: unexpected end of JSON input' },
    { name: 'missing kind', source: 'k.yaml', text: 'apiVersion: v1\nmetadata: {name: x}\n', want: 'error validating "k.yaml": error validating data: [kind not set]' },
    { name: 'not an object', source: 's.yaml', text: '- a\n- b\n', want: 'error parsing s.yaml: document 1: expected an object, got a list' },
  ];
  for (const r of bad) t.throws(() => parseManifest(r.text, r.source), { message: r.want }, r.name);
});

t.test('expandPaths: directories, -R, manifest extensions only', async (t) => {
  const tree: Record<string, string[] | string> = { '/m': ['b.yaml', 'a.json', 'notes.txt', 'sub'], '/m/sub': ['c.yml'], '/m/b.yaml': '', '/m/a.json': '', '/m/notes.txt': '', '/m/sub/c.yml': '' };
  const fs: ManifestFs = { readFile: () => '', isDirectory: (p) => { if (!(p in tree)) throw new Error('ENOENT'); return Array.isArray(tree[p]); }, readdir: (p) => tree[p] as string[] };
  t.same(expandPaths(['/m'], false, fs), ['/m/a.json', '/m/b.yaml']);
  t.same(expandPaths(['/m'], true, fs), ['/m/a.json', '/m/b.yaml', '/m/sub/c.yml']);
  t.same(expandPaths(['-', '/m/notes.txt'], false, fs), ['-', '/m/notes.txt'], 'a file named directly is read whatever its extension');
  t.throws(() => expandPaths(['/nope'], false, fs), { message: 'the path "/nope" does not exist' });
});

t.test('threeWayMergePatch', async (t) => {
  const rows: { name: string; original?: any; modified: any; current: any; want: any }[] = [
    { name: 'unchanged with server-set fields', original: { spec: { a: 1 } }, modified: { spec: { a: 1 } }, current: { spec: { a: 1, defaulted: 'x' }, status: { s: 1 } }, want: {} },
    { name: 'changed value', original: { spec: { a: 1 } }, modified: { spec: { a: 2 } }, current: { spec: { a: 1 } }, want: { spec: { a: 2 } } },
    { name: 'removed since last apply is nulled', original: { spec: { a: 1, b: 2 } }, modified: { spec: { a: 1 } }, current: { spec: { a: 1, b: 2 } }, want: { spec: { b: null } } },
    { name: 'field set by others is kept', original: { spec: { a: 1 } }, modified: { spec: { a: 1 } }, current: { spec: { a: 1, other: 3 } }, want: {} },
    { name: 'no original: nothing deleted', modified: { spec: { a: 1 } }, current: { spec: { a: 1, b: 2 } }, want: {} },
    { name: 'list with server-defaulted item fields is unchanged', original: { c: [{ name: 'x', image: 'i' }] }, modified: { c: [{ name: 'x', image: 'i' }] }, current: { c: [{ name: 'x', image: 'i', pullPolicy: 'IfNotPresent' }] }, want: {} },
    { name: 'list item changed: whole list sent', original: { c: [{ name: 'x', image: 'i' }] }, modified: { c: [{ name: 'x', image: 'j' }] }, current: { c: [{ name: 'x', image: 'i', pullPolicy: 'IfNotPresent' }] }, want: { c: [{ name: 'x', image: 'j' }] } },
    { name: 'list item field removed', original: { c: [{ name: 'x', image: 'i', args: ['a'] }] }, modified: { c: [{ name: 'x', image: 'i' }] }, current: { c: [{ name: 'x', image: 'i', args: ['a'] }] }, want: { c: [{ name: 'x', image: 'i' }] } },
    { name: 'list length changed', original: { p: [1] }, modified: { p: [1, 2] }, current: { p: [1] }, want: { p: [1, 2] } },
    { name: 'new map', modified: { data: { a: 'b' } }, current: {}, want: { data: { a: 'b' } } },
  ];
  for (const r of rows) t.same(threeWayMergePatch(r.original, r.modified, r.current), r.want, r.name);
  const w = withLastApplied({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', annotations: { keep: 'me' } } });
  t.same(lastApplied(w), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', annotations: { keep: 'me' } } }, 'annotation holds the config without itself');
  t.equal(w.metadata.annotations.keep, 'me');
  t.ok((w.metadata.annotations as Record<string, string>)[LAST_APPLIED]!.endsWith('\n'));
});

t.test('label changes and --overwrite', async (t) => {
  t.same(parseChanges(['pods', 'web', 'a=b', 'c-', 'd=']), { resources: ['pods', 'web'], changes: { set: { a: 'b', d: '' }, remove: ['c'] } });
  t.throws(() => parseChanges(['a=b', 'a-']), /can not both modify and remove/);
  const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'x', c: 'y' } } };
  const rows: { name: string; set: Record<string, string>; remove: string[]; overwrite: boolean; want?: any; wantError?: string }[] = [
    { name: 'new key', set: { n: '1' }, remove: [], overwrite: false, want: { metadata: { labels: { n: '1' } } } },
    { name: 'same value is no change', set: { a: 'x' }, remove: [], overwrite: false, want: null },
    { name: 'change refused without --overwrite', set: { a: 'z' }, remove: [], overwrite: false, wantError: "'a' already has a value (x), and --overwrite is false" },
    { name: 'change with --overwrite', set: { a: 'z' }, remove: [], overwrite: true, want: { metadata: { labels: { a: 'z' } } } },
    { name: 'remove', set: {}, remove: ['c', 'absent'], overwrite: false, want: { metadata: { labels: { c: null } } } },
  ];
  for (const r of rows) {
    const run = () => metaPatch(obj, 'labels', { set: r.set, remove: r.remove }, r.overwrite);
    if (r.wantError) t.throws(run, { message: r.wantError }, r.name);
    else t.same(run(), r.want, r.name);
  }
});

t.test('describe helpers, edit comments, error wording', async (t) => {
  const titles: [string, string][] = [['creationTimestamp', 'Creation Timestamp'], ['podIP', 'Pod IP'], ['dnsPolicy', 'Dns Policy'], ['restartPolicy', 'Restart Policy']];
  for (const [k, want] of titles) t.equal(titleCase(k), want, k);
  t.equal(describeEvents([], new Date()), 'Events:  <none>\n');
  const ev = describeEvents([{ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, type: 'Normal', reason: 'Scheduled', message: 'ok', source: { component: 'default-scheduler' }, lastTimestamp: '2020-01-01T00:00:00Z' }], new Date('2020-01-01T00:00:10Z'));
  t.equal(ev, 'Events:\n  Type    Reason     Age   From               Message\n  ----    ------     ----  ----               -------\n  Normal  Scheduled  10s   default-scheduler  ok\n', 'kubectl describe layout');
  t.equal(stripComments('# a\nkey: v\n  # b\nx: 1'), 'key: v\nx: 1');
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', code: 404 };
  t.equal(formatError(errorFromResponse(404, JSON.stringify(status))), 'Error from server (NotFound): pods "x" not found');
  t.equal(formatError(errorFromResponse(404, JSON.stringify(status)), 'error when creating "a.yaml"'), 'Error from server (NotFound): error when creating "a.yaml": pods "x" not found');
  t.equal(formatError(Object.assign(new Error('Unable to connect to the server: https://127.0.0.1:6443/api: ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?');
  t.equal(formatError(new Error('boom')), 'error: boom');
});
