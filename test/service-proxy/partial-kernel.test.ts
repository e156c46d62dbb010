// Partial syncs against the real kernel (root): after each step of a sequence of Service changes
// (endpoints added and removed, affinity on and off, NodePort added, scale to zero, Service deleted), the
// table built by the chain of partial transactions must list exactly like a fresh full sync of the same
// state. This is what lets the proxy diff instead of rewriting: the diff never leaves anything behind.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fullSync, partialSync, deleteTable, type RuleConfig } from '../../node/service-proxy/nftables/rules.js';
import type { Endpoint, ServicePort } from '../../node/service-proxy/model/servicemap.js';
import { rootSkip } from './fixture.js';

const skip = rootSkip();
const rand = Math.floor(Math.random() * 0xffff).toString(16);
const partialCfg: RuleConfig = { table: `shoalt-sp-part-${rand}`, nodeName: 'n1', clusterCidr: '10.244.0.0/16', nodePortAddresses: [] };
const fullCfg: RuleConfig = { ...partialCfg, table: `shoalt-sp-full-${rand}` };

const ep = (last: number): Endpoint => ({ ip: `10.244.0.${last}`, port: 8080, ready: true, serving: true, terminating: false, nodeName: 'n1' });
const port = (name: string, vip: number, eps: number[], o: Partial<ServicePort> = {}): ServicePort => ({
  id: `default/${name}/tcp/80`, svcKey: `default/${name}`, protocol: 'TCP', port: 80, clusterIPs: [`10.96.0.${vip}`], externalIPs: [], loadBalancerIPs: [],
  internalLocal: false, externalLocal: false, endpoints: eps.map(ep), ...o,
});

const nft = (stdin: string) => execFileSync('nft', ['-f', '-'], { input: stdin, stdio: ['pipe', 'pipe', 'pipe'] });

/** The table as a sorted list of objects without handles, elements sorted, the table name blanked. */
function snapshot(table: string): string[] {
  const out = JSON.parse(execFileSync('nft', ['-j', 'list', 'table', 'ip', table], { encoding: 'utf8' }).split(table).join('T'));
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm).map((x) => JSON.stringify(x)).sort().map((x) => JSON.parse(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, norm(x)]));
    return v;
  };
  return (out.nftables as object[]).filter((o) => !('metainfo' in o)).map((o) => JSON.stringify(norm(o))).sort();
}

t.test('a chain of partial syncs equals a full sync', { skip }, async (t) => {
  t.teardown(() => {
    for (const cfg of [partialCfg, fullCfg]) nft(deleteTable(cfg));
  });
  const steps: { name: string; state: Map<string, ServicePort[]> }[] = [];
  const s = (name: string, svcs: ServicePort[][]) => steps.push({ name, state: new Map(svcs.map((p) => [p[0].svcKey, p])) });
  const other = [port('other', 9, [20, 21])];
  s('start', [[port('web', 5, [2, 3])], other]);
  s('one endpoint more', [[port('web', 5, [2, 3, 4])], other]);
  s('first endpoint gone', [[port('web', 5, [3, 4])], other]);
  s('affinity on', [[port('web', 5, [3, 4], { affinitySeconds: 60 })], other]);
  s('affinity off, NodePort', [[port('web', 5, [3, 4], { nodePort: 30080 })], other]);
  s('external Local, no local endpoint', [[port('web', 5, [3, 4], { nodePort: 30080, externalLocal: true, endpoints: [{ ...ep(3), nodeName: 'n2' }] })], other]);
  s('scaled to zero', [[port('web', 5, [], { nodePort: 30080 })], other]);
  s('back with one', [[port('web', 5, [7])], other]);
  s('deleted', [other]);
  let applied = new Map<string, ServicePort[]>();
  nft(fullSync(partialCfg, applied.values()));
  for (const step of steps) {
    const keys = new Set([...applied.keys(), ...step.state.keys()]);
    const changes = [...keys].map((k) => ({ old: applied.get(k) ?? [], cur: step.state.get(k) ?? [] }));
    nft(partialSync(partialCfg, changes));
    nft(fullSync(fullCfg, step.state.values()));
    t.same(snapshot(partialCfg.table), snapshot(fullCfg.table), `${step.name}: partial == full`);
    applied = step.state;
  }
});
