// Field selectors (`?fieldSelector=metadata.name=web,status.phase!=Running`): parsing, the fields each
// kind supports (as the Kubernetes API server does), and matching against objects. Unknown fields are
// a 400 BadRequest `field label not supported: <field>`, as Kubernetes answers.

import { errors } from './errors.js';
import type { KubeObject } from './meta.js';

/** One `field=value` or `field!=value` term. */
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Every term must hold. */
export interface FieldSelector {
  requirements: FieldRequirement[];
}

type Getter = (o: KubeObject) => string | undefined;

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

const common: Record<string, Getter> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
};

// Per-kind extras, keyed `group/Kind` ('' group for core), as the API server registers them.
const extras: Record<string, Record<string, Getter>> = {
  '/Pod': {
    'spec.nodeName': (o) => str(o.spec?.nodeName) ?? '',
    'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
    'spec.schedulerName': (o) => str(o.spec?.schedulerName),
    'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
    'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
    'status.phase': (o) => str(o.status?.phase),
    'status.podIP': (o) => str(o.status?.podIP),
    'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
  },
  '/Namespace': { 'status.phase': (o) => str(o.status?.phase) },
  '/Node': { 'spec.unschedulable': (o) => String(o.spec?.unschedulable === true) },
  '/Secret': { type: (o) => str(o.type) },
  '/Event': {
    'involvedObject.kind': (o) => str(o.involvedObject?.kind),
    'involvedObject.namespace': (o) => str(o.involvedObject?.namespace),
    'involvedObject.name': (o) => str(o.involvedObject?.name),
    'involvedObject.uid': (o) => str(o.involvedObject?.uid),
    'involvedObject.apiVersion': (o) => str(o.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (o) => str(o.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (o) => str(o.involvedObject?.fieldPath),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(o.source?.component),
    type: (o) => str(o.type),
  },
  'apps/ReplicaSet': { 'status.replicas': (o) => String(o.status?.replicas ?? 0) },
};

function gettersFor(group: string, kind: string): Record<string, Getter> {
  return { ...common, ...(extras[`${group}/${kind}`] ?? {}) };
}

/** The field names a kind supports in field selectors. */
export function supportedFields(group: string, kind: string): string[] {
  return Object.keys(gettersFor(group, kind));
}

/** Split on unescaped `sep`; `\,` `\=` `\\` escape. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/**
 * Parse `f=v,f==v,f!=v` (values may be empty; `\,` `\=` `\!` escape). Throws BadRequest
 * `invalid selector: 'x'; can't understand 'x'` on a term without an operator.
 */
export function parseFieldSelector(input: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  if (input.trim() === '') return { requirements: reqs };
  for (const term of splitEscaped(input, ',')) {
    const m = /^((?:\\.|[^\\!=])*)(!=|==|=)(.*)$/s.exec(term);
    if (!m || m[1]!.trim() === '') throw errors.badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    reqs.push({ field: unescape(m[1]!.trim()), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!) });
  }
  return { requirements: reqs };
}

/** Parse and check every field against the kind: BadRequest `field label not supported: <field>`. */
export function parseFieldSelectorFor(input: string, group: string, kind: string): FieldSelector {
  const sel = parseFieldSelector(input);
  const g = gettersFor(group, kind);
  for (const r of sel.requirements) if (!(r.field in g)) throw errors.badRequest(`field label not supported: ${r.field}`);
  return sel;
}

/** True when `obj` satisfies every term. A field the kind lacks never matches `=`. */
export function matchesFields(sel: FieldSelector, obj: KubeObject): boolean {
  if (sel.requirements.length === 0) return true;
  const { group } = splitGroup(obj.apiVersion);
  const g = gettersFor(group, obj.kind);
  for (const r of sel.requirements) {
    const get = g[r.field];
    const v = get ? (get(obj) ?? '') : undefined;
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** The string form, `f=v,f!=v`. */
export function fieldSelectorToString(sel: FieldSelector): string {
  return sel.requirements.map((r) => `${r.field}${r.op}${r.value.replace(/([\\,=!])/g, '\\$1')}`).join(',');
}

function splitGroup(apiVersion: string): { group: string } {
  const i = apiVersion.indexOf('/');
  return { group: i < 0 ? '' : apiVersion.slice(0, i) };
}
