// lib/host/nft: table-driven diffs (old objects, new objects → exact text), both full layouts, the
// engine's resync-after-failure rule on a FakeRunner, and (as root) `nft -c` accepting full + diff texts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { FakeRunner } from '../../lib/host/fake.js';
import { diffText, emptyObjects, fullStatements, fullText, NftTable, type NftObjects, type NftSet } from '../../lib/host/nft.js';

const T = 'inet shoal-libtest';
const set = (decl: string | undefined, ...e: string[]): NftSet => ({ decl, elements: new Set(e) });
const objs = (o: { sets?: [string, NftSet][]; maps?: [string, [string, string][], string?][]; chains?: [string, string[]][] }): NftObjects => ({
  sets: new Map(o.sets ?? []),
  maps: new Map((o.maps ?? []).map(([n, els, decl]) => [n, { decl: decl ?? 'type ipv4_addr : verdict', elements: new Map(els) }])),
  chains: new Map(o.chains ?? []),
});
const base = objs({ sets: [['sel-1', set('type ipv4_addr', '10.0.0.2', '10.0.0.3')]], maps: [['pods', [['10.0.0.2', 'jump c-a']]]], chains: [['c-a', ['ip saddr @sel-1 accept', 'counter drop']]] });

const rows: { name: string; old: NftObjects; next: NftObjects; want: string }[] = [
  { name: 'equal: nothing', old: base, next: base, want: '' },
  { name: 'set element added and removed', old: base, next: { ...base, sets: new Map([['sel-1', set('type ipv4_addr', '10.0.0.2', '10.0.0.9')]]) },
    want: `delete element ${T} sel-1 { 10.0.0.3 }\nadd element ${T} sel-1 { 10.0.0.9 }\n` },
  { name: 'new set before the chain that names it', old: base,
    next: { ...base, sets: new Map([...base.sets, ['sel-2', set('type ipv4_addr', '10.0.0.5')]]), chains: new Map([['c-a', ['ip saddr @sel-2 accept', 'counter drop']]]) },
    want: `add set ${T} sel-2 { type ipv4_addr; }\nadd element ${T} sel-2 { 10.0.0.5 }\nflush chain ${T} c-a\nadd rule ${T} c-a ip saddr @sel-2 accept\nadd rule ${T} c-a counter drop\n` },
  { name: 'everything goes: element, then chains, then set', old: base, next: objs({ maps: [['pods', []]] }),
    want: `delete element ${T} pods { 10.0.0.2 }\nflush chain ${T} c-a\ndelete chain ${T} c-a\ndelete set ${T} sel-1\n` },
  { name: 'map value changes: delete then add, new chain first', old: base,
    next: { ...base, maps: objs({ maps: [['pods', [['10.0.0.2', 'jump c-b']]]] }).maps, chains: new Map([['c-b', ['accept']]]) },
    want: `add chain ${T} c-b\nadd rule ${T} c-b accept\ndelete element ${T} pods { 10.0.0.2 }\nadd element ${T} pods { 10.0.0.2 : jump c-b }\nflush chain ${T} c-a\ndelete chain ${T} c-a\n` },
  { name: 'fixed set (no decl): elements only, never deleted', old: objs({ sets: [['ips', set(undefined, '10.96.0.5')]] }), next: emptyObjects(),
    want: `delete element ${T} ips { 10.96.0.5 }\n` },
  { name: 'fixed set appears: no add set', old: emptyObjects(), next: objs({ sets: [['ips', set(undefined, '10.96.0.5')]] }),
    want: `add element ${T} ips { 10.96.0.5 }\n` },
];

t.test('diff text', async (t) => {
  for (const r of rows) t.equal(diffText(T, r.old, r.next), r.want, r.name);
  t.throws(() => diffText(T, base, { ...base, sets: new Map([['sel-1', set('type ipv4_addr . inet_service')]]) }), /sel-1: declaration changed/);
  const many = objs({ sets: [['big', set('type ipv4_addr', ...Array.from({ length: 2500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`))]] });
  t.equal(diffText(T, emptyObjects(), many).split('\n').filter((l) => l.startsWith('add element')).length, 3, 'elements batched by 1000');
});

t.test('full layouts', async (t) => {
  const fixed = '\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n';
  const text = fullText(T, base, fixed);
  t.equal(text, `add table ${T}\ndelete table ${T}\ntable ${T} {\n\tset sel-1 {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.2, 10.0.0.3 }\n\t}\n\tmap pods {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 10.0.0.2 : jump c-a }\n\t}\n${fixed}\tchain c-a {\n\t\tip saddr @sel-1 accept\n\t\tcounter drop\n\t}\n}\n`);
  const st = fullStatements(T, { ...base, maps: objs({ maps: [['pods', [['10.0.0.2', 'jump c-a']], undefined as unknown as string]] }).maps }, `table ${T} { map pods { type ipv4_addr : verdict ; } }`);
  t.match(st, /^add table inet shoal-libtest\ndelete table inet shoal-libtest\ntable inet shoal-libtest \{ map pods/);
  t.match(st, /add set inet shoal-libtest sel-1 \{ type ipv4_addr ; \}\nadd chain inet shoal-libtest c-a\nadd rule inet shoal-libtest c-a ip saddr @sel-1 accept\n/);
  t.match(st, /add element inet shoal-libtest sel-1 \{ 10\.0\.0\.2, 10\.0\.0\.3 \}\nadd element inet shoal-libtest pods \{ 10\.0\.0\.2 : jump c-a \}\n$/);
});

t.test('engine: full first, diffs after, full again after a failure', async (t) => {
  const runner = new FakeRunner();
  const table = new NftTable<NftObjects>(runner, T);
  const plan = (desired: NftObjects) => (applied: NftObjects | undefined) =>
    applied ? { kind: 'diff' as const, text: diffText(T, applied, desired), next: desired } : { kind: 'full' as const, text: fullText(T, desired), next: desired };
  t.equal((await table.sync(plan(base))).kind, 'full');
  t.equal(table.applied, base);
  t.equal((await table.sync(plan(base))).kind, 'none', 'nothing changed: nft not called');
  t.equal(runner.inputs('nft').length, 1);
  const next = { ...base, sets: new Map([['sel-1', set('type ipv4_addr', '10.0.0.2')]]) };
  runner.fail(/^nft /, 'Error: No such file or directory', 1, 1);
  await t.rejects(table.sync(plan(next)), /nft inet shoal-libtest transaction \(diff\): nft exited 1: Error: No such file/);
  t.equal(table.applied, undefined, 'failure: applied state unknown');
  const r = await table.sync(plan(next));
  t.equal(r.kind, 'full', 'the sync after a failure replaces the whole table');
  t.ok(r.bytes > 0);
  t.match(runner.inputs('nft').at(-1)!, /^add table inet shoal-libtest\ndelete table/);
  table.invalidate();
  t.equal((await table.sync(plan(next))).kind, 'full', 'invalidate forces a full sync');
  await table.remove();
  t.equal(runner.inputs('nft').at(-1), `add table ${T}\ndelete table ${T}\n`);
  t.equal(table.applied, undefined);
});

t.test('nft -c accepts full and diff texts', { skip: process.getuid?.() !== 0 ? 'needs root (nft -c)' : false }, async (t) => {
  const name = `inet shoal-libchk${process.pid}`;
  const fixed = '\tset ips {\n\t\ttype ipv4_addr\n\t}\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n';
  for (const r of rows) {
    const text = fullText(name, r.old, fixed) + diffText(name, r.old, r.next).replaceAll(`${T} `, `${name} `);
    const res = spawnSync('nft', ['-c', '-f', '-'], { input: text, encoding: 'utf8' });
    t.equal(res.status, 0, `${r.name}: ${res.stderr}`);
  }
});
