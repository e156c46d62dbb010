// Tables for k8s.io/api core/v1 top-level kinds other than the pod template: Namespace, ConfigMap,
// Secret, ServiceAccount, Service and the references they use. Field numbers are those of core/v1
// generated.proto; JSON names and omitempty follow the Go struct tags. The pod spec lives in pod.ts.

import type { TableSource } from '../schema.js';

/** core/v1 message tables (without the pod template). */
export const coreTables: TableSource = {
  // ResourceQuota (kubectl create quota); scopeSelector is skipped
  ResourceQuota: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec ResourceQuotaSpec omitempty'],
    [3, 'status ResourceQuotaStatus omitempty'],
  ],
  ResourceQuotaSpec: [
    [1, 'hard map[string]Quantity omitempty'],
    [2, 'scopes []string omitempty'],
  ],
  ResourceQuotaStatus: [
    [1, 'hard map[string]Quantity omitempty'],
    [2, 'used map[string]Quantity omitempty'],
  ],
  Namespace: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec NamespaceSpec omitempty'],
    [3, 'status NamespaceStatus omitempty'],
  ],
  NamespaceSpec: [[1, 'finalizers []string omitempty']],
  NamespaceStatus: [
    [1, 'phase string omitempty'],
    [2, 'conditions []NamespaceCondition omitempty'],
  ],
  NamespaceCondition: [
    [1, 'type string'],
    [2, 'status string'],
    [4, 'lastTransitionTime Time omitempty'],
    [5, 'reason string omitempty'],
    [6, 'message string omitempty'],
  ],

  ConfigMap: [
    [1, 'metadata ObjectMeta omitempty'],
    [4, 'immutable *bool omitempty'],
    [2, 'data map[string]string omitempty'],
    [3, 'binaryData map[string][]byte omitempty'],
  ],
  Secret: [
    [1, 'metadata ObjectMeta omitempty'],
    [5, 'immutable *bool omitempty'],
    [2, 'data map[string][]byte omitempty'],
    [4, 'stringData map[string]string omitempty'],
    [3, 'type string omitempty'],
  ],
  ServiceAccount: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'secrets []ObjectReference omitempty'],
    [3, 'imagePullSecrets []LocalObjectReference omitempty'],
    [4, 'automountServiceAccountToken *bool omitempty'],
  ],
  ObjectReference: [
    [1, 'kind string omitempty'],
    [2, 'namespace string omitempty'],
    [3, 'name string omitempty'],
    [4, 'uid string omitempty'],
    [5, 'apiVersion string omitempty'],
    [6, 'resourceVersion string omitempty'],
    [7, 'fieldPath string omitempty'],
  ],
  LocalObjectReference: [[1, 'name string omitempty']],
  TypedLocalObjectReference: [
    [1, 'apiGroup *string'],
    [2, 'kind string'],
    [3, 'name string'],
  ],

  Service: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec ServiceSpec omitempty'],
    [3, 'status ServiceStatus omitempty'],
  ],
  ServiceSpec: [
    [1, 'ports []ServicePort omitempty'],
    [2, 'selector map[string]string omitempty'],
    [3, 'clusterIP string omitempty'],
    [18, 'clusterIPs []string omitempty'],
    [4, 'type string omitempty'],
    [5, 'externalIPs []string omitempty'],
    [7, 'sessionAffinity string omitempty'],
    [8, 'loadBalancerIP string omitempty'],
    [9, 'loadBalancerSourceRanges []string omitempty'],
    [10, 'externalName string omitempty'],
    [11, 'externalTrafficPolicy string omitempty'],
    [12, 'healthCheckNodePort int32 omitempty'],
    [13, 'publishNotReadyAddresses bool omitempty'],
    [14, 'sessionAffinityConfig *SessionAffinityConfig omitempty'],
    [19, 'ipFamilies []string omitempty'],
    [17, 'ipFamilyPolicy *string omitempty'],
    [20, 'allocateLoadBalancerNodePorts *bool omitempty'],
    [21, 'loadBalancerClass *string omitempty'],
    [22, 'internalTrafficPolicy *string omitempty'],
    [23, 'trafficDistribution *string omitempty'],
  ],
  ServicePort: [
    [1, 'name string omitempty'],
    [2, 'protocol string omitempty'],
    [6, 'appProtocol *string omitempty'],
    [3, 'port int32'],
    [4, 'targetPort IntOrString omitempty'],
    [5, 'nodePort int32 omitempty'],
  ],
  SessionAffinityConfig: [[1, 'clientIP *ClientIPConfig omitempty']],
  ClientIPConfig: [[1, 'timeoutSeconds *int32 omitempty']],
  ServiceStatus: [
    [1, 'loadBalancer LoadBalancerStatus omitempty'],
    [2, 'conditions []Condition omitempty'],
  ],
  LoadBalancerStatus: [[1, 'ingress []LoadBalancerIngress omitempty']],
  LoadBalancerIngress: [
    [1, 'ip string omitempty'],
    [2, 'hostname string omitempty'],
    [3, 'ipMode *string omitempty'],
    [4, 'ports []PortStatus omitempty'],
  ],
  PortStatus: [
    [1, 'port int32'],
    [2, 'protocol string'],
    [3, 'error *string omitempty'],
  ],
};
