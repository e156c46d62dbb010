// `-o yaml`, `-o json` and `-o name` as kubectl prints them: keys sorted (kubectl goes through JSON maps),
// sequences not indented under their key, managedFields hidden, several objects wrapped in a `List`.

import YAML from 'yaml';
import type { KubeObject } from '../../api/meta.js';

/** The `-o` formats that print objects rather than tables. */
export type ObjectFormat = 'yaml' | 'json' | 'name';

/** A copy without metadata.managedFields (kubectl's default --show-managed-fields=false). */
export function withoutManagedFields(o: KubeObject): KubeObject {
  if (!o.metadata?.managedFields) return o;
  const { managedFields: _mf, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** YAML text of one value, kubectl style. */
export function toYaml(v: unknown): string {
  return YAML.stringify(sortKeys(v), { indentSeq: false, lineWidth: 0 });
}

/** `kind.group/name` in lower case, `-o name` style: `deployment.apps/web`, `pod/web-0`. */
export function resourceName(o: { apiVersion?: string; kind?: string; metadata?: { name?: string } }, kindOverride?: { kind: string; group: string }): string {
  const kind = (kindOverride?.kind ?? o.kind ?? '').toLowerCase();
  const group = kindOverride?.group ?? (o.apiVersion?.includes('/') ? o.apiVersion.split('/')[0] : '');
  return `${kind}${group ? `.${group}` : ''}/${o.metadata?.name ?? ''}`;
}

/** Print objects in a format: one object as itself, several (or a list request) as a v1 List. */
export function formatObjects(objs: KubeObject[], format: ObjectFormat, asList: boolean): string {
  if (format === 'name') return objs.map((o) => `${resourceName(o)}\n`).join('');
  const clean = objs.map(withoutManagedFields);
  const value = !asList && clean.length === 1 ? clean[0] : { apiVersion: 'v1', items: clean, kind: 'List', metadata: { resourceVersion: '' } };
  return format === 'json' ? `${JSON.stringify(sortKeys(value), null, 4)}\n` : toYaml(value);
}
