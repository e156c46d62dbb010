// `shoal describe KIND [NAME...] | KIND/NAME [-l SEL]`: kubectl's describe output: Name, Namespace,
// Labels, Annotations, then the object's fields as an indented `Key: value` tree with kubectl's title-case
// names (its generic describer), a few kind-specific summary lines, and the Events about the object from
// the events API (fieldSelector involvedObject.name/namespace/uid).

import type { KubeObject } from '../../api/meta.js';
import type { ApiResource } from '../../api/client/discovery.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { formatError } from '../errors.js';
import { formatRows } from '../printers/table.js';
import { resolveResourceArgs } from '../resources.js';
import { age } from '../../api/age.js';
import { type Command, selectorFlag } from './command.js';
import { meshSection } from './describe-mesh.js';

/** `creationTimestamp` → `Creation Timestamp`, `podIP` → `Pod IP`, as kubectl titles field names. */
export function titleCase(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').split(/[\s_-]+/);
  return words.map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w)).join(' ');
}

function mapLines(m: Record<string, string> | undefined, label: string, width: number): string {
  const entries = Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return `${`${label}:`.padEnd(width)}<none>\n`;
  return entries.map(([k, v], i) => `${(i === 0 ? `${label}:` : '').padEnd(width)}${k}=${v}\n`).join('');
}

/** The generic describer's tree for a value, indented two spaces per level. */
export function describeTree(v: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    return v.map((item) => {
      if (item && typeof item === 'object') return describeTree(item, indent);
      return `${pad}${String(item)}\n`;
    }).join('');
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    const w = Math.max(0, ...entries.filter(([, x]) => x === null || typeof x !== 'object').map(([k]) => titleCase(k).length + 2));
    return entries.map(([k, x]) => {
      const label = `${titleCase(k)}:`;
      if (x && typeof x === 'object') {
        if (Array.isArray(x) && x.length === 0) return `${pad}${label.padEnd(w)}  <none>\n`;
        if (!Array.isArray(x) && Object.keys(x).length === 0) return `${pad}${label}\n`;
        return `${pad}${label}\n${describeTree(x, indent + 2)}`;
      }
      return `${pad}${label.padEnd(w)}  ${x === null ? '<nil>' : String(x)}\n`;
    }).join('');
  }
  return `${pad}${String(v)}\n`;
}

/** Kind-specific summary lines kubectl puts near the top. */
function summary(o: KubeObject): string[][] {
  const s = o.status ?? {};
  const sp = o.spec ?? {};
  switch (o.kind) {
    case 'Pod':
      return [['Node', sp.nodeName ? `${sp.nodeName}/${s.hostIP ?? ''}` : '<none>'], ['Status', o.metadata.deletionTimestamp ? 'Terminating' : (s.phase ?? 'Unknown')], ['IP', s.podIP ?? ''], ['Service Account', sp.serviceAccountName ?? 'default']];
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
      return [['Replicas', `${sp.replicas ?? 0} desired | ${s.updatedReplicas ?? 0} updated | ${s.replicas ?? 0} total | ${s.availableReplicas ?? 0} available | ${s.unavailableReplicas ?? 0} unavailable`]];
    case 'Service':
      return [['Type', sp.type ?? 'ClusterIP'], ['IP', sp.clusterIP ?? ''], ...((sp.ports ?? []) as any[]).map((p) => ['Port', `${p.name ?? '<unset>'}  ${p.port}/${p.protocol ?? 'TCP'}`])];
    default:
      return [];
  }
}

/** The whole description of one object (without events). */
export function describeObject(o: KubeObject, r: ApiResource): string {
  const W = 14;
  let out = `${'Name:'.padEnd(W)}${o.metadata.name}\n`;
  if (r.namespaced) out += `${'Namespace:'.padEnd(W)}${o.metadata.namespace ?? ''}\n`;
  out += mapLines(o.metadata.labels, 'Labels', W);
  const ann = { ...(o.metadata.annotations ?? {}) };
  delete ann['kubectl.kubernetes.io/last-applied-configuration'];
  out += mapLines(ann, 'Annotations', W);
  for (const [k, v] of summary(o)) out += `${`${k}:`.padEnd(W)}${v}\n`;
  out += `${'API Version:'.padEnd(W)}${o.apiVersion}\n${'Kind:'.padEnd(W)}${o.kind}\n`;
  const { managedFields: _m, name: _n, namespace: _ns, labels: _l, annotations: _a, ...meta } = o.metadata;
  const rest: Record<string, unknown> = { metadata: meta };
  for (const [k, v] of Object.entries(o)) if (!['apiVersion', 'kind', 'metadata'].includes(k)) rest[k] = v;
  out += describeTree(rest, 0);
  return out;
}

/** The Events section. */
export function describeEvents(events: KubeObject[], now: Date): string {
  if (!events.length) return 'Events:  <none>\n';
  const ts = (e: KubeObject) => e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  const sorted = [...events].sort((a, b) => String(ts(a)).localeCompare(String(ts(b))));
  const rows = sorted.map((e) => [e.type ?? '', e.reason ?? '', age(ts(e), now), e.source?.component ?? e.reportingComponent ?? '', String(e.message ?? '').trim()]);
  const text = formatRows(['Type', 'Reason', 'Age', 'From', 'Message'], [['----', '------', '----', '----', '-------'], ...rows], 'describe');
  return `Events:\n${text.split('\n').filter((l) => l).map((l) => `  ${l}`).join('\n')}\n`;
}

export const describeCommand: Command = {
  name: 'describe',
  summary: 'Show details of a resource or group of resources, with their events',
  usage: 'shoal describe KIND [NAME...] | KIND/NAME [-l SEL] [-n NS | -A]',
  flags: [selectorFlag, { name: 'all-namespaces', short: 'A', type: 'bool', help: 'across all namespaces' }],
  async run(ctx: Context, a: Parsed) {
    const targets = await resolveResourceArgs(ctx.client, a.positionals);
    let failed = 0;
    let first = true;
    for (const t of targets) {
      const ns = t.resource.namespaced ? (a.flags['all-namespaces'] ? '' : ctx.namespace) : '';
      let objs: KubeObject[] = [];
      if (t.names.length) {
        for (const n of t.names) {
          try {
            objs.push(await ctx.client.get(t.resource, n, { namespace: ns }));
          } catch (e) {
            ctx.io.err(`${formatError(e)}\n`);
            failed++;
          }
        }
      } else objs = (await ctx.client.listAll(t.resource, { namespace: ns, labelSelector: a.flags.selector as string | undefined })).items;
      for (const o of objs) {
        o.apiVersion ??= t.resource.group ? `${t.resource.group}/${t.resource.version}` : t.resource.version;
        o.kind ??= t.resource.kind;
        if (!first) ctx.io.out('\n\n');
        first = false;
        ctx.io.out(describeObject(o, t.resource));
        if (o.kind === 'Pod') ctx.io.out(await meshSection(ctx.client, o));
        ctx.io.out(describeEvents(await eventsFor(ctx, o), ctx.io.now()));
      }
    }
    return failed ? 1 : 0;
  },
};

/** Events whose involvedObject is `o`; falls back to filtering client-side if the server rejects the selector. */
async function eventsFor(ctx: Context, o: KubeObject): Promise<KubeObject[]> {
  const ns = o.metadata.namespace ?? '';
  const sel = [`involvedObject.name=${o.metadata.name}`, ...(ns ? [`involvedObject.namespace=${ns}`] : []), ...(o.metadata.uid ? [`involvedObject.uid=${o.metadata.uid}`] : [])].join(',');
  const ref = { apiVersion: 'v1', plural: 'events', namespaced: true };
  try {
    return (await ctx.client.list(ref, { namespace: ns, fieldSelector: sel })).items;
  } catch {
    try {
      const all = (await ctx.client.list(ref, { namespace: ns })).items;
      return all.filter((e) => e.involvedObject?.name === o.metadata.name && (!o.metadata.uid || !e.involvedObject?.uid || e.involvedObject.uid === o.metadata.uid));
    } catch {
      return []; // no events API on this server
    }
  }
}
