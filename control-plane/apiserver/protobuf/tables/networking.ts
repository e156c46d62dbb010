// Tables for k8s.io/api networking/v1 Ingress. Field numbers are those of networking/v1
// generated.proto; JSON names and omitempty follow the Go struct tags.

import type { TableSource } from '../schema.js';

/** networking/v1 message tables. */
export const networkingTables: TableSource = {
  Ingress: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec IngressSpec omitempty'],
    [3, 'status IngressStatus omitempty'],
  ],
  IngressSpec: [
    [4, 'ingressClassName *string omitempty'],
    [1, 'defaultBackend *IngressBackend omitempty'],
    [2, 'tls []IngressTLS omitempty'],
    [3, 'rules []IngressRule omitempty'],
  ],
  IngressTLS: [
    [1, 'hosts []string omitempty'],
    [2, 'secretName string omitempty'],
  ],
  IngressRule: [
    [1, 'host string omitempty'],
    [2, '- inline IngressRuleValue'],
  ],
  IngressRuleValue: [[1, 'http *HTTPIngressRuleValue omitempty']],
  HTTPIngressRuleValue: [[1, 'paths []HTTPIngressPath']],
  HTTPIngressPath: [
    [1, 'path string omitempty'],
    [3, 'pathType *string'],
    [2, 'backend IngressBackend'],
  ],
  IngressBackend: [
    [4, 'service *IngressServiceBackend omitempty'],
    [3, 'resource *TypedLocalObjectReference omitempty'],
  ],
  IngressServiceBackend: [
    [1, 'name string'],
    [2, 'port ServiceBackendPort omitempty'],
  ],
  ServiceBackendPort: [
    [1, 'name string omitempty'],
    [2, 'number int32 omitempty'],
  ],
  IngressStatus: [[1, 'loadBalancer IngressLoadBalancerStatus omitempty']],
  IngressLoadBalancerStatus: [[1, 'ingress []IngressLoadBalancerIngress omitempty']],
  IngressLoadBalancerIngress: [
    [1, 'ip string omitempty'],
    [2, 'hostname string omitempty'],
    [4, 'ports []IngressPortStatus omitempty'],
  ],
  IngressPortStatus: [
    [1, 'port int32'],
    [2, 'protocol string'],
    [3, 'error *string omitempty'],
  ],
};
