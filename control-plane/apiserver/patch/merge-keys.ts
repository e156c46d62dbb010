// The merge-key table: how each list and map of the core kinds merges, for strategic merge patch
// (Go struct tags `patchStrategy`/`patchMergeKey` in k8s.io/api types.go) and for server-side apply
// (`+listType`, `+listMapKey`, `+structType`/`+mapType=atomic` markers). The two can differ: SMP
// merges container ports by containerPort alone, SSA keys them by containerPort and protocol.
// Anything not listed here is the default: maps merge field by field, lists are atomic (replaced).

/** How one list field merges. */
export interface ListRule {
  /** strategic merge patch: 'merge' by smpKey (or as a set of scalars when there is none), else replace */
  smp: 'merge' | 'replace';
  smpKey?: string;
  /** server-side apply: associative list ('map', keyed by ssaKeys), set of scalars, or atomic */
  ssa: 'map' | 'set' | 'atomic';
  ssaKeys?: string[];
  /** values SSA uses for key fields the item omits (the API default, e.g. protocol TCP) */
  keyDefaults?: Record<string, unknown>;
  /** type of the list's items (a key of `types`) */
  item?: string;
}

/** How one field merges: a nested struct type, a list rule, or an atomic map/struct (SSA). */
export interface FieldRule {
  type?: string;
  list?: ListRule;
  /** SSA: the whole value is one field (LabelSelector, Service selector, nodeSelector...) */
  atomic?: boolean;
}

/** The fields of one struct type that need a rule. */
export type TypeRules = Readonly<Record<string, FieldRule>>;

const byName = (item?: string): ListRule => ({ smp: 'merge', smpKey: 'name', ssa: 'map', ssaKeys: ['name'], ...(item ? { item } : {}) });
const byType: ListRule = { smp: 'merge', smpKey: 'type', ssa: 'map', ssaKeys: ['type'] };
const atomicList: ListRule = { smp: 'replace', ssa: 'atomic' };
const mergeSet: ListRule = { smp: 'merge', ssa: 'set' };
const conditionsOnly: TypeRules = { conditions: { list: byType } };

/** Struct types by name. `Object` is the top level of every kind (metadata only). */
export const types: Readonly<Record<string, TypeRules>> = {
  ObjectMeta: {
    ownerReferences: { list: { smp: 'merge', smpKey: 'uid', ssa: 'map', ssaKeys: ['uid'], item: 'Atomic' } },
    finalizers: { list: mergeSet },
    managedFields: { list: atomicList },
  },
  Atomic: {},
  PodTemplateSpec: { metadata: { type: 'ObjectMeta' }, spec: { type: 'PodSpec' } },
  PodSpec: {
    containers: { list: byName('Container') },
    initContainers: { list: byName('Container') },
    ephemeralContainers: { list: byName('Container') },
    volumes: { list: byName() },
    imagePullSecrets: { list: byName() },
    tolerations: { list: atomicList },
    readinessGates: { list: atomicList },
    hostAliases: { list: { smp: 'merge', smpKey: 'ip', ssa: 'map', ssaKeys: ['ip'] } },
    topologySpreadConstraints: { list: { smp: 'merge', smpKey: 'topologyKey', ssa: 'map', ssaKeys: ['topologyKey', 'whenUnsatisfiable'] } },
    resourceClaims: { list: byName() },
    schedulingGates: { list: byName() },
    nodeSelector: { atomic: true },
  },
  Container: {
    ports: {
      list: { smp: 'merge', smpKey: 'containerPort', ssa: 'map', ssaKeys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' } },
    },
    env: { list: byName() },
    envFrom: { list: atomicList },
    volumeMounts: { list: { smp: 'merge', smpKey: 'mountPath', ssa: 'map', ssaKeys: ['mountPath'] } },
    volumeDevices: { list: { smp: 'merge', smpKey: 'devicePath', ssa: 'map', ssaKeys: ['devicePath'] } },
    resizePolicy: { list: atomicList },
  },
  PodStatus: {
    conditions: { list: byType },
    podIPs: { list: { smp: 'merge', smpKey: 'ip', ssa: 'map', ssaKeys: ['ip'] } },
    hostIPs: { list: { smp: 'merge', smpKey: 'ip', ssa: 'map', ssaKeys: ['ip'] } },
  },
  WorkloadSpec: { template: { type: 'PodTemplateSpec' }, selector: { atomic: true } },
  DeploymentSpec: { template: { type: 'PodTemplateSpec' }, selector: { atomic: true } },
  StatefulSetSpec: { template: { type: 'PodTemplateSpec' }, selector: { atomic: true }, volumeClaimTemplates: { list: atomicList } },
  JobStatus: { conditions: { list: { smp: 'merge', smpKey: 'type', ssa: 'atomic' } } },
  ServiceSpec: {
    ports: { list: { smp: 'merge', smpKey: 'port', ssa: 'map', ssaKeys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } } },
    selector: { atomic: true },
  },
  Conditions: conditionsOnly,
  NodeSpec: { podCIDRs: { list: mergeSet }, taints: { list: atomicList } },
  NodeStatus: {
    conditions: { list: byType },
    addresses: { list: { smp: 'merge', smpKey: 'type', ssa: 'atomic' } },
  },
  EndpointsTop: { subsets: { list: atomicList } },
};

/** `retainKeys` fields (SMP `$retainKeys` is honoured on any map; listed for documentation). */
export const retainKeysFields = ['Deployment spec.strategy', 'PodSpec volumes[*]', 'PodSpec resourceClaims[*]'] as const;

/** Top-level field rules per kind; every kind gets `metadata: ObjectMeta`. */
const kindTop: Readonly<Record<string, TypeRules>> = {
  Pod: { spec: { type: 'PodSpec' }, status: { type: 'PodStatus' } },
  PodTemplate: { template: { type: 'PodTemplateSpec' } },
  Deployment: { spec: { type: 'DeploymentSpec' }, status: { type: 'Conditions' } },
  ReplicaSet: { spec: { type: 'WorkloadSpec' }, status: { type: 'Conditions' } },
  DaemonSet: { spec: { type: 'WorkloadSpec' }, status: { type: 'Conditions' } },
  StatefulSet: { spec: { type: 'StatefulSetSpec' }, status: { type: 'Conditions' } },
  Job: { spec: { type: 'WorkloadSpec' }, status: { type: 'JobStatus' } },
  ReplicationController: { spec: { type: 'WorkloadSpec' }, status: { type: 'Conditions' } },
  Service: { spec: { type: 'ServiceSpec' }, status: { type: 'Conditions' } },
  Node: { spec: { type: 'NodeSpec' }, status: { type: 'NodeStatus' } },
  Namespace: { status: { type: 'Conditions' } },
  PersistentVolumeClaim: { status: { type: 'Conditions' } },
  Endpoints: { subsets: { list: atomicList } },
  ConfigMap: {},
  Secret: {},
  ServiceAccount: { secrets: { list: byName() }, imagePullSecrets: { list: atomicList } },
};

const resolvedKinds = new Map<string, TypeRules>();

/** True when the kind has strategic-merge metadata (the core and apps kinds); false for CRDs. */
export function hasStrategicMergeRules(kind: string): boolean {
  return Object.hasOwn(kindTop, kindName(kind));
}

/** `apps/v1/Deployment`, `apps/v1, Kind=Deployment` or `Deployment` → `Deployment`. */
function kindName(kindKey: string): string {
  const m = /(?:Kind=|\/)?([A-Za-z0-9]+)$/.exec(kindKey);
  return m ? m[1]! : kindKey;
}

/** The top-level rules for a kind (unknown kinds get metadata rules only). */
export function rulesForKind(kindKey: string): TypeRules {
  const name = kindName(kindKey);
  let r = resolvedKinds.get(name);
  if (!r) {
    r = Object.freeze({ metadata: { type: 'ObjectMeta' }, ...(kindTop[name] ?? {}) });
    resolvedKinds.set(name, r);
  }
  return r;
}

const EMPTY: TypeRules = Object.freeze({});

/** The rules of a named type ({} when unnamed: every map merges, every list is atomic). */
export function typeRules(name: string | undefined): TypeRules {
  return (name !== undefined && types[name]) || EMPTY;
}

/** The rules one level down from `rules` through field `field`. */
export function childRules(rules: TypeRules, field: string): TypeRules {
  const f = rules[field];
  return f ? typeRules(f.type) : EMPTY;
}
