// The "empty object" a create is compared against when tracking fields. kube-apiserver compares a
// new object with the Go zero value of its type, in which non-pointer structs (spec, template,
// strategy...) already exist and nil slices are null; so creating them is not recorded as owning
// the struct itself (no "." entry), only its fields. Kinds not listed here start from {}.

import type { JsonObject } from './value.js';

const podSpec = () => ({ containers: null });
const template = () => ({ metadata: {}, spec: podSpec() });

const zero: Readonly<Record<string, () => JsonObject>> = {
  Pod: () => ({ metadata: {}, spec: podSpec(), status: {} }),
  PodTemplate: () => ({ metadata: {}, template: template() }),
  Deployment: () => ({ metadata: {}, spec: { selector: null, template: template(), strategy: {} }, status: {} }),
  ReplicaSet: () => ({ metadata: {}, spec: { selector: null, template: template() }, status: {} }),
  DaemonSet: () => ({ metadata: {}, spec: { selector: null, template: template(), updateStrategy: {} }, status: {} }),
  StatefulSet: () => ({ metadata: {}, spec: { selector: null, template: template(), updateStrategy: {} }, status: {} }),
  Job: () => ({ metadata: {}, spec: { template: template() }, status: {} }),
  Service: () => ({ metadata: {}, spec: {}, status: { loadBalancer: {} } }),
  Node: () => ({ metadata: {}, spec: {}, status: { daemonEndpoints: { kubeletEndpoint: { Port: 0 } }, nodeInfo: {} } }),
  Namespace: () => ({ metadata: {}, spec: {}, status: {} }),
  ConfigMap: () => ({ metadata: {} }),
  Secret: () => ({ metadata: {} }),
  Endpoints: () => ({ metadata: {} }),
  ServiceAccount: () => ({ metadata: {} }),
};

/** A fresh zero value for `kind` (without apiVersion/kind, which no manager owns). */
export function zeroObject(kind: string): JsonObject {
  return zero[kind]?.() ?? { metadata: {} };
}
