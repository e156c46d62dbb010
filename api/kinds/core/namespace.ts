// core/v1 Namespace: every namespace carries the immutable `kubernetes.io/metadata.name` label,
// spec.finalizers defaults to [kubernetes] and status.phase to Active; names are RFC 1123 labels.

import { age } from '../../age.js';
import { arr, enm, obj, str } from '../../schema/schema.js';
import { type FieldError, Path, asArr, ensureObj, fieldError, kindSchema, setDefault } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';
import { qualifiedName } from '../../validation/names.js';

/** The label the API server keeps equal to the namespace's name. */
export const namespaceNameLabel = 'kubernetes.io/metadata.name';

/** core/v1 Namespace */
export const namespace = defineKind({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  shortNames: ['ns'],
  namespaced: false,
  status: true,
  nameValidation: 'DNS1123Label',
  schema: kindSchema({
    spec: obj({ finalizers: arr(str) }),
    status: obj({
      phase: enm('Active', 'Terminating'),
      conditions: arr(obj({ type: str, status: enm('True', 'False', 'Unknown'), lastTransitionTime: str, reason: str, message: str })),
    }),
  }),
  defaults(o) {
    const md = ensureObj(o, 'metadata');
    if (md && typeof md.name === 'string' && md.name !== '') {
      const labels = ensureObj(md, 'labels');
      if (labels) labels[namespaceNameLabel] = md.name;
    }
    const spec = ensureObj(o, 'spec');
    if (spec) setDefault(spec, 'finalizers', ['kubernetes']);
    const status = ensureObj(o, 'status');
    if (status) setDefault(status, 'phase', 'Active');
  },
  semantic(o) {
    const errs: FieldError[] = [];
    asArr(o.spec?.finalizers).forEach((f: string, i: number) => {
      for (const m of qualifiedName(f)) errs.push(fieldError.invalid(Path.root('spec').child('finalizers').index(i), f, m));
    });
    const l = o.metadata?.labels?.[namespaceNameLabel];
    if (l !== undefined && o.metadata.name && l !== o.metadata.name)
      errs.push(fieldError.invalid(Path.root('metadata').child('labels').key(namespaceNameLabel), l, 'must equal the namespace name'));
    return errs;
  },
  columns: [nameCol, col('Status'), ageCol],
  cells: (o, now) => [o.metadata.name, o.status?.phase ?? '', age(o.metadata.creationTimestamp, now)],
});
