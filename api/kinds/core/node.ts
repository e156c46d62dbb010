// core/v1 Node: the node agent registers one and keeps its status (conditions, addresses, capacity,
// nodeInfo) fresh. Validation covers podCIDR(s), taints and addresses; the table shows STATUS
// (Ready/NotReady/Unknown, SchedulingDisabled) and ROLES from node-role labels, as kubectl does.

import { age } from '../../age.js';
import { any, arr, bool, enm, int, map, obj, qty, str } from '../../schema/schema.js';
import { cidr, ipAddress, labelValue, qualifiedName } from '../../validation/names.js';
import { type FieldError, Path, asArr, each, fieldError, kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const taint = obj({ key: str, value: str, effect: enm('NoSchedule', 'PreferNoSchedule', 'NoExecute'), timeAdded: str }, ['key', 'effect']);

const nodeSpec = obj({
  podCIDR: str,
  podCIDRs: arr(str),
  providerID: str,
  unschedulable: bool,
  taints: arr(taint),
  configSource: any,
  externalID: str,
});

const nodeStatus = obj({
  capacity: map(qty),
  allocatable: map(qty),
  phase: str,
  conditions: arr(obj({ type: str, status: enm('True', 'False', 'Unknown'), lastHeartbeatTime: str, lastTransitionTime: str, reason: str, message: str })),
  addresses: arr(obj({ type: enm('Hostname', 'InternalIP', 'ExternalIP', 'InternalDNS', 'ExternalDNS'), address: str }, ['type', 'address'])),
  daemonEndpoints: obj({ kubeletEndpoint: obj({ Port: int }) }),
  nodeInfo: obj({
    machineID: str,
    systemUUID: str,
    bootID: str,
    kernelVersion: str,
    osImage: str,
    containerRuntimeVersion: str,
    kubeletVersion: str,
    kubeProxyVersion: str,
    operatingSystem: str,
    architecture: str,
    swap: any,
  }),
  images: arr(obj({ names: arr(str), sizeBytes: int })),
  volumesInUse: arr(str),
  volumesAttached: arr(obj({ name: str, devicePath: str })),
  config: any,
  runtimeHandlers: any,
  features: any,
  declaredFeatures: any,
});

function nodeStatusText(o: any): string {
  const ready = asArr(o.status?.conditions).find((c: any) => c.type === 'Ready');
  const parts = [!ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown'];
  if (o.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const r = k.slice('node-role.kubernetes.io/'.length);
      if (r) roles.add(r);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function address(o: any, type: string): string {
  return asArr(o.status?.addresses).find((a: any) => a.type === type)?.address ?? '<none>';
}

/** core/v1 Node */
export const node = defineKind({
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  shortNames: ['no'],
  namespaced: false,
  status: true,
  schema: kindSchema({ spec: nodeSpec, status: nodeStatus }),
  semantic(o) {
    const errs: FieldError[] = [];
    const p = Path.root('spec');
    const spec = o.spec ?? {};
    if (spec.podCIDR) each(errs, p.child('podCIDR'), spec.podCIDR, cidr(spec.podCIDR));
    asArr(spec.podCIDRs).forEach((c: string, i: number) => each(errs, p.child('podCIDRs').index(i), c, cidr(c)));
    if (asArr(spec.podCIDRs).length > 2) errs.push(fieldError.tooMany(p.child('podCIDRs'), spec.podCIDRs.length, 2));
    const seen = new Set<string>();
    asArr(spec.taints).forEach((t: any, i: number) => {
      const tp = p.child('taints').index(i);
      each(errs, tp.child('key'), t.key, qualifiedName(t.key));
      if (t.value) each(errs, tp.child('value'), t.value, labelValue(t.value));
      const k = `${t.key}:${t.effect}`;
      if (seen.has(k)) errs.push(fieldError.duplicate(tp, k));
      seen.add(k);
    });
    asArr(o.status?.addresses).forEach((a: any, i: number) => {
      if (a.type === 'InternalIP' || a.type === 'ExternalIP') each(errs, Path.root('status').child('addresses').index(i).child('address'), a.address, ipAddress(a.address));
    });
    return errs;
  },
  columns: [
    nameCol,
    col('Status'),
    col('Roles'),
    ageCol,
    col('Version'),
    col('Internal-IP', 'string', true),
    col('External-IP', 'string', true),
    col('OS-Image', 'string', true),
    col('Kernel-Version', 'string', true),
    col('Container-Runtime', 'string', true),
  ],
  cells: (o, now) => {
    const info = o.status?.nodeInfo ?? {};
    return [
      o.metadata.name,
      nodeStatusText(o),
      nodeRoles(o.metadata.labels),
      age(o.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      address(o, 'InternalIP'),
      address(o, 'ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ];
  },
});
