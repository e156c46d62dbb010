// parseStoreSpec: the `--store` flag, table-driven. Pure: opens nothing.

import t from 'tap';
import { StoreSpecError, parseStoreSpec } from '../../control-plane/store/open.js';

const ok: Array<{ spec: string; want: ReturnType<typeof parseStoreSpec> }> = [
  { spec: 'etcd://127.0.0.1:2379', want: { kind: 'etcd', hosts: ['http://127.0.0.1:2379'] } },
  { spec: 'etcd://127.0.0.1:2379,127.0.0.1:22379', want: { kind: 'etcd', hosts: ['http://127.0.0.1:2379', 'http://127.0.0.1:22379'] } },
  { spec: 'etcd://localhost:2379/', want: { kind: 'etcd', hosts: ['http://localhost:2379'] } },
  { spec: 'etcd://[::1]:2379', want: { kind: 'etcd', hosts: ['http://[::1]:2379'] } },
  { spec: 'sqlite:///var/lib/shoal/store.db', want: { kind: 'sqlite', path: '/var/lib/shoal/store.db' } },
  { spec: '/var/lib/shoal/store.db', want: { kind: 'sqlite', path: '/var/lib/shoal/store.db' } },
  { spec: 'state/store.db', want: { kind: 'sqlite', path: '/home/u/state/store.db' } },
];
for (const c of ok) t.same(parseStoreSpec(c.spec, '--store', '/home/u'), c.want, c.spec);

const bad: Array<{ spec: string; want: string[] }> = [
  { spec: '', want: ['--store: Required value: an etcd:// URL or a SQLite file path'] },
  { spec: 'etcd://', want: ['--store: Invalid value: "": etcd endpoint 1 must be host:port with a port between 1 and 65535'] },
  {
    spec: 'etcd://a:1,b,c:70000',
    want: [
      '--store: Invalid value: "b": etcd endpoint 2 must be host:port with a port between 1 and 65535',
      '--store: Invalid value: "c:70000": etcd endpoint 3 must be host:port with a port between 1 and 65535',
    ],
  },
  { spec: 'sqlite://relative.db', want: ['--store: Invalid value: "sqlite://relative.db": sqlite:// needs an absolute path (sqlite:///var/lib/shoal/store.db)'] },
  {
    spec: 'mysql://db:3306',
    want: ['--store: Unsupported value: "mysql://db:3306": supported values: "etcd://host:port[,host:port]", "sqlite:///abs/path.db", a file path'],
  },
];
for (const c of bad) {
  try {
    parseStoreSpec(c.spec);
    t.fail(`${JSON.stringify(c.spec)}: accepted, want an error`);
  } catch (err) {
    t.ok(err instanceof StoreSpecError, `${JSON.stringify(c.spec)}: StoreSpecError`);
    t.same((err as StoreSpecError).problems, c.want, `${JSON.stringify(c.spec)}: every problem, naming the flag`);
  }
}

t.same(
  (() => {
    try {
      return parseStoreSpec('etcd://x', '--etcd-servers');
    } catch (err) {
      return (err as StoreSpecError).problems;
    }
  })(),
  ['--etcd-servers: Invalid value: "x": etcd endpoint 1 must be host:port with a port between 1 and 65535'],
  'the field name is the caller’s',
);
