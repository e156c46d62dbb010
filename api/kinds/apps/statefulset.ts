// apps/v1 StatefulSet and ControllerRevision: schema field for field with k8s.io/api apps/v1 (1.32),
// SetDefaults_StatefulSet (OrderedReady, RollingUpdate with partition 0, 1 replica, history 10, PVC
// retention Retain/Retain), ValidateStatefulSet (selector ⊆ template labels, restartPolicy Always,
// volumeClaimTemplates usable as volume names, the update restrictions kube enforces) and kubectl tables.
// volumeClaimTemplates are accepted and validated; storage is out of scope, so the controller backs each
// claim with an emptyDir (see control-plane/controllers/statefulset/README.md).

import { age } from '../../age.js';
import { validateLabelSelector } from '../../labels.js';
import type { KubeObject } from '../../meta.js';
import { any, arr, enm, int, intOrStr, map, obj, qty, str } from '../../schema/schema.js';
import { type FieldError, Path, asArr, asObj, condition, deepEqual, ensureObj, fieldError, kindSchema, nonNegative, objectMeta, setDefault } from '../common.js';
import { podTemplateSpec } from '../core/pod-schema.js';
import { defaultPodTemplate } from '../core/pod-spec.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';
import { validateWorkloadTemplate } from './workloads.js';
import { labelSelector } from '../common.js';

const pvcTemplate = obj({
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: obj({
    accessModes: arr(str),
    selector: labelSelector,
    resources: obj({ limits: map(qty), requests: map(qty) }),
    volumeName: str,
    storageClassName: str,
    volumeMode: enm('Filesystem', 'Block'),
    dataSource: obj({ apiGroup: str, kind: str, name: str }),
    dataSourceRef: obj({ apiGroup: str, kind: str, name: str, namespace: str }),
    volumeAttributesClassName: str,
  }),
  status: any,
});

const statefulSetSpec = obj(
  {
    replicas: int,
    selector: labelSelector,
    template: podTemplateSpec,
    volumeClaimTemplates: arr(pvcTemplate),
    serviceName: str,
    podManagementPolicy: enm('OrderedReady', 'Parallel'),
    updateStrategy: obj({ type: enm('RollingUpdate', 'OnDelete'), rollingUpdate: obj({ partition: int, maxUnavailable: intOrStr }) }),
    revisionHistoryLimit: int,
    minReadySeconds: int,
    persistentVolumeClaimRetentionPolicy: obj({ whenDeleted: enm('Retain', 'Delete'), whenScaled: enm('Retain', 'Delete') }),
    ordinals: obj({ start: int }),
  },
  ['selector', 'template'],
);
const statefulSetStatus = obj({
  observedGeneration: int,
  replicas: int,
  readyReplicas: int,
  currentReplicas: int,
  updatedReplicas: int,
  currentRevision: str,
  updateRevision: str,
  collisionCount: int,
  conditions: arr(condition),
  availableReplicas: int,
});

function defaults(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  defaultPodTemplate(spec.template);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const us = ensureObj(spec, 'updateStrategy');
  if (us) {
    setDefault(us, 'type', 'RollingUpdate');
    if (us.type === 'RollingUpdate') {
      const ru = ensureObj(us, 'rollingUpdate');
      if (ru) setDefault(ru, 'partition', 0);
    }
  }
  const ret = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  if (ret) {
    setDefault(ret, 'whenDeleted', 'Retain');
    setDefault(ret, 'whenScaled', 'Retain');
  }
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  for (const c of asArr(spec.volumeClaimTemplates)) {
    const s = asObj(asObj(c)?.spec);
    if (s) setDefault(s, 'volumeMode', 'Filesystem');
  }
}

const MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function validate(o: KubeObject, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  const spec = o.spec ?? {};
  for (const f of ['replicas', 'minReadySeconds', 'revisionHistoryLimit']) nonNegative(errs, p.child(f), spec[f]);
  if (spec.ordinals) nonNegative(errs, p.child('ordinals', 'start'), spec.ordinals.start);
  const us = spec.updateStrategy;
  if (us?.type === 'OnDelete' && us.rollingUpdate)
    errs.push(fieldError.invalid(p.child('updateStrategy', 'rollingUpdate'), 'object', "only allowed for updateStrategy 'RollingUpdate'"));
  if (us?.rollingUpdate) nonNegative(errs, p.child('updateStrategy', 'rollingUpdate', 'partition'), us.rollingUpdate.partition);
  const sel = spec.selector;
  if (sel) {
    errs.push(...validateLabelSelector(sel, p.child('selector')));
    if (asArr(sel.matchExpressions).length === 0 && Object.keys(sel.matchLabels ?? {}).length === 0)
      errs.push(fieldError.invalid(p.child('selector'), 'object', 'empty selector is invalid for statefulset'));
  }
  const tpl = spec.template;
  const claims = asArr(spec.volumeClaimTemplates);
  claims.forEach((c: any, i: number) => {
    const cp = p.child('volumeClaimTemplates').index(i);
    if (!c.metadata?.name) errs.push(fieldError.required(cp.child('metadata', 'name'), 'name or generateName is required'));
    if (asArr(c.spec?.accessModes).length === 0) errs.push(fieldError.required(cp.child('spec', 'accessModes'), 'at least 1 access mode is required'));
    if (c.spec?.resources?.requests?.storage == null) errs.push(fieldError.required(cp.child('spec', 'resources').key('storage')));
  });
  if (tpl) {
    // claim templates are volumes of every pod (kube adds them before validating the template)
    const withClaims = { ...(tpl.spec ?? {}), volumes: [...asArr(tpl.spec?.volumes), ...claims.filter((c: any) => c.metadata?.name && !asArr(tpl.spec?.volumes).some((v: any) => v.name === c.metadata.name)).map((c: any) => ({ name: c.metadata.name, emptyDir: {} }))] };
    validateWorkloadTemplate(errs, p.child('template'), tpl, sel, 'StatefulSet', tpl.spec ? withClaims : undefined);
  }
  if (old) {
    const a = { ...spec };
    const b = { ...(old.spec ?? {}) };
    for (const k of MUTABLE) {
      delete a[k];
      delete b[k];
    }
    if (!deepEqual(a, b))
      errs.push(fieldError.forbidden(p, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errs;
}

const containersOf = (o: KubeObject): any[] => asArr(o.spec?.template?.spec?.containers);

/** apps/v1 StatefulSet */
export const statefulSet = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  shortNames: ['sts'],
  namespaced: true,
  categories: ['all'],
  status: true,
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' },
  schema: kindSchema({ spec: statefulSetSpec, status: statefulSetStatus }),
  defaults,
  semantic: validate,
  columns: [nameCol, col('Ready', 'string', false, 'Number of the pod with ready state'), ageCol, col('Containers', 'string', true), col('Images', 'string', true)],
  cells: (o, now) => [
    o.metadata.name,
    `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
    age(o.metadata.creationTimestamp, now),
    containersOf(o).map((c: any) => c.name).join(','),
    containersOf(o).map((c: any) => c.image).join(','),
  ],
});

/** apps/v1 ControllerRevision: an immutable snapshot of a StatefulSet's (or DaemonSet's) pod template. */
export const controllerRevision = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  namespaced: true,
  schema: kindSchema({ data: any, revision: int }, ['revision']),
  semantic(o, old) {
    const errs: FieldError[] = [];
    nonNegative(errs, Path.root('revision'), o.revision);
    if (old && !deepEqual(o.data, old.data)) errs.push(fieldError.invalid('data', 'object', 'field is immutable'));
    return errs;
  },
  columns: [nameCol, col('Controller'), col('Revision', 'integer'), ageCol],
  cells: (o, now) => {
    const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
    const owner = ref ? `${ref.kind.toLowerCase()}.${ref.apiVersion.split('/').length > 1 ? ref.apiVersion.split('/')[0] : ''}/${ref.name}` : '<none>';
    return [o.metadata.name, owner.replace('./', '/'), o.revision ?? 0, age(o.metadata.creationTimestamp, now)];
  },
});
