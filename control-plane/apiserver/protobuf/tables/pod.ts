// Tables for the pod template (core/v1): PodTemplateSpec, PodSpec, Container and the parts users commonly
// set (ports, env, resources, command/args, probes, lifecycle hooks, security context, tolerations, basic
// volumes). Field numbers are those of core/v1 generated.proto; JSON names and omitempty follow the Go
// struct tags. Fields left out here (affinity, topology spread, ephemeral containers, exotic volume
// sources...) are skipped by the decoder; README.md lists them.

import type { TableSource } from '../schema.js';

/** Pod template message tables. */
export const podTables: TableSource = {
  Pod: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec PodSpec omitempty'],
    [3, 'status PodStatus omitempty'],
  ],
  PodStatus: [
    [17, 'observedGeneration int64 omitempty'],
    [1, 'phase string omitempty'],
    [3, 'message string omitempty'],
    [4, 'reason string omitempty'],
    [11, 'nominatedNodeName string omitempty'],
    [5, 'hostIP string omitempty'],
    [6, 'podIP string omitempty'],
    [7, 'startTime *Time omitempty'],
    [9, 'qosClass string omitempty'],
  ],
  PodTemplateSpec: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec PodSpec omitempty'],
  ],
  PodSpec: [
    [1, 'volumes []Volume omitempty'],
    [20, 'initContainers []Container omitempty'],
    [2, 'containers []Container'],
    [3, 'restartPolicy string omitempty'],
    [4, 'terminationGracePeriodSeconds *int64 omitempty'],
    [5, 'activeDeadlineSeconds *int64 omitempty'],
    [6, 'dnsPolicy string omitempty'],
    [7, 'nodeSelector map[string]string omitempty'],
    [8, 'serviceAccountName string omitempty'],
    [9, 'serviceAccount string omitempty'],
    [21, 'automountServiceAccountToken *bool omitempty'],
    [10, 'nodeName string omitempty'],
    [11, 'hostNetwork bool omitempty'],
    [12, 'hostPID bool omitempty'],
    [13, 'hostIPC bool omitempty'],
    [27, 'shareProcessNamespace *bool omitempty'],
    [14, 'securityContext *PodSecurityContext omitempty'],
    [15, 'imagePullSecrets []LocalObjectReference omitempty'],
    [16, 'hostname string omitempty'],
    [17, 'subdomain string omitempty'],
    [19, 'schedulerName string omitempty'],
    [22, 'tolerations []Toleration omitempty'],
    [23, 'hostAliases []HostAlias omitempty'],
    [24, 'priorityClassName string omitempty'],
    [25, 'priority *int32 omitempty'],
    [26, 'dnsConfig *PodDNSConfig omitempty'],
    [29, 'runtimeClassName *string omitempty'],
    [30, 'enableServiceLinks *bool omitempty'],
    [31, 'preemptionPolicy *string omitempty'],
    [32, 'overhead map[string]Quantity omitempty'],
    [35, 'setHostnameAsFQDN *bool omitempty'],
    [37, 'hostUsers *bool omitempty'],
  ],
  Container: [
    [1, 'name string'],
    [2, 'image string omitempty'],
    [3, 'command []string omitempty'],
    [4, 'args []string omitempty'],
    [5, 'workingDir string omitempty'],
    [6, 'ports []ContainerPort omitempty'],
    [19, 'envFrom []EnvFromSource omitempty'],
    [7, 'env []EnvVar omitempty'],
    [8, 'resources ResourceRequirements omitempty'],
    [24, 'restartPolicy *string omitempty'],
    [9, 'volumeMounts []VolumeMount omitempty'],
    [10, 'livenessProbe *Probe omitempty'],
    [11, 'readinessProbe *Probe omitempty'],
    [22, 'startupProbe *Probe omitempty'],
    [12, 'lifecycle *Lifecycle omitempty'],
    [13, 'terminationMessagePath string omitempty'],
    [20, 'terminationMessagePolicy string omitempty'],
    [14, 'imagePullPolicy string omitempty'],
    [15, 'securityContext *SecurityContext omitempty'],
    [16, 'stdin bool omitempty'],
    [17, 'stdinOnce bool omitempty'],
    [18, 'tty bool omitempty'],
  ],
  ContainerPort: [
    [1, 'name string omitempty'],
    [2, 'hostPort int32 omitempty'],
    [3, 'containerPort int32'],
    [4, 'protocol string omitempty'],
    [5, 'hostIP string omitempty'],
  ],
  EnvVar: [
    [1, 'name string'],
    [2, 'value string omitempty'],
    [3, 'valueFrom *EnvVarSource omitempty'],
  ],
  EnvVarSource: [
    [1, 'fieldRef *ObjectFieldSelector omitempty'],
    [2, 'resourceFieldRef *ResourceFieldSelector omitempty'],
    [3, 'configMapKeyRef *ConfigMapKeySelector omitempty'],
    [4, 'secretKeyRef *SecretKeySelector omitempty'],
  ],
  ObjectFieldSelector: [
    [1, 'apiVersion string omitempty'],
    [2, 'fieldPath string'],
  ],
  ResourceFieldSelector: [
    [1, 'containerName string omitempty'],
    [2, 'resource string'],
    [3, 'divisor Quantity omitempty'],
  ],
  ConfigMapKeySelector: [
    [1, '- inline LocalObjectReference'],
    [2, 'key string'],
    [3, 'optional *bool omitempty'],
  ],
  SecretKeySelector: [
    [1, '- inline LocalObjectReference'],
    [2, 'key string'],
    [3, 'optional *bool omitempty'],
  ],
  EnvFromSource: [
    [1, 'prefix string omitempty'],
    [2, 'configMapRef *ConfigMapEnvSource omitempty'],
    [3, 'secretRef *SecretEnvSource omitempty'],
  ],
  ConfigMapEnvSource: [
    [1, '- inline LocalObjectReference'],
    [2, 'optional *bool omitempty'],
  ],
  SecretEnvSource: [
    [1, '- inline LocalObjectReference'],
    [2, 'optional *bool omitempty'],
  ],
  ResourceRequirements: [
    [1, 'limits map[string]Quantity omitempty'],
    [2, 'requests map[string]Quantity omitempty'],
    [3, 'claims []ResourceClaim omitempty'],
  ],
  ResourceClaim: [
    [1, 'name string'],
    [2, 'request string omitempty'],
  ],
  VolumeMount: [
    [1, 'name string'],
    [2, 'readOnly bool omitempty'],
    [7, 'recursiveReadOnly *string omitempty'],
    [3, 'mountPath string'],
    [4, 'subPath string omitempty'],
    [5, 'mountPropagation *string omitempty'],
    [6, 'subPathExpr string omitempty'],
  ],

  // --- probes and lifecycle hooks ---
  Probe: [
    [1, '- inline ProbeHandler'],
    [2, 'initialDelaySeconds int32 omitempty'],
    [3, 'timeoutSeconds int32 omitempty'],
    [4, 'periodSeconds int32 omitempty'],
    [5, 'successThreshold int32 omitempty'],
    [6, 'failureThreshold int32 omitempty'],
    [7, 'terminationGracePeriodSeconds *int64 omitempty'],
  ],
  ProbeHandler: [
    [1, 'exec *ExecAction omitempty'],
    [2, 'httpGet *HTTPGetAction omitempty'],
    [3, 'tcpSocket *TCPSocketAction omitempty'],
    [4, 'grpc *GRPCAction omitempty'],
  ],
  ExecAction: [[1, 'command []string omitempty']],
  HTTPGetAction: [
    [1, 'path string omitempty'],
    [2, 'port IntOrString'],
    [3, 'host string omitempty'],
    [4, 'scheme string omitempty'],
    [5, 'httpHeaders []HTTPHeader omitempty'],
  ],
  HTTPHeader: [
    [1, 'name string'],
    [2, 'value string'],
  ],
  TCPSocketAction: [
    [1, 'port IntOrString'],
    [2, 'host string omitempty'],
  ],
  GRPCAction: [
    [1, 'port int32'],
    [2, 'service *string'],
  ],
  Lifecycle: [
    [1, 'postStart *LifecycleHandler omitempty'],
    [2, 'preStop *LifecycleHandler omitempty'],
    [3, 'stopSignal *string omitempty'],
  ],
  LifecycleHandler: [
    [1, 'exec *ExecAction omitempty'],
    [2, 'httpGet *HTTPGetAction omitempty'],
    [3, 'tcpSocket *TCPSocketAction omitempty'],
    [4, 'sleep *SleepAction omitempty'],
  ],
  SleepAction: [[1, 'seconds int64']],

  // --- security and scheduling ---
  PodSecurityContext: [
    [2, 'runAsUser *int64 omitempty'],
    [6, 'runAsGroup *int64 omitempty'],
    [3, 'runAsNonRoot *bool omitempty'],
    [4, 'supplementalGroups []int64 omitempty'],
    [5, 'fsGroup *int64 omitempty'],
    [7, 'sysctls []Sysctl omitempty'],
    [9, 'fsGroupChangePolicy *string omitempty'],
    [10, 'seccompProfile *SeccompProfile omitempty'],
  ],
  Sysctl: [
    [1, 'name string'],
    [2, 'value string'],
  ],
  SecurityContext: [
    [1, 'capabilities *Capabilities omitempty'],
    [2, 'privileged *bool omitempty'],
    [4, 'runAsUser *int64 omitempty'],
    [8, 'runAsGroup *int64 omitempty'],
    [5, 'runAsNonRoot *bool omitempty'],
    [6, 'readOnlyRootFilesystem *bool omitempty'],
    [7, 'allowPrivilegeEscalation *bool omitempty'],
    [9, 'procMount *string omitempty'],
    [11, 'seccompProfile *SeccompProfile omitempty'],
  ],
  Capabilities: [
    [1, 'add []string omitempty'],
    [2, 'drop []string omitempty'],
  ],
  SeccompProfile: [
    [1, 'type string'],
    [2, 'localhostProfile *string omitempty'],
  ],
  Toleration: [
    [1, 'key string omitempty'],
    [2, 'operator string omitempty'],
    [3, 'value string omitempty'],
    [4, 'effect string omitempty'],
    [5, 'tolerationSeconds *int64 omitempty'],
  ],
  PodDNSConfig: [
    [1, 'nameservers []string omitempty'],
    [2, 'searches []string omitempty'],
    [3, 'options []PodDNSConfigOption omitempty'],
  ],
  PodDNSConfigOption: [
    [1, 'name string omitempty'],
    [2, 'value *string omitempty'],
  ],
  HostAlias: [
    [1, 'ip string'],
    [2, 'hostnames []string omitempty'],
  ],

  // --- volumes (the common sources) ---
  Volume: [
    [1, 'name string'],
    [2, '- inline VolumeSource'],
  ],
  VolumeSource: [
    [1, 'hostPath *HostPathVolumeSource omitempty'],
    [2, 'emptyDir *EmptyDirVolumeSource omitempty'],
    [6, 'secret *SecretVolumeSource omitempty'],
    [10, 'persistentVolumeClaim *PersistentVolumeClaimVolumeSource omitempty'],
    [19, 'configMap *ConfigMapVolumeSource omitempty'],
  ],
  HostPathVolumeSource: [
    [1, 'path string'],
    [2, 'type *string omitempty'],
  ],
  EmptyDirVolumeSource: [
    [1, 'medium string omitempty'],
    [2, 'sizeLimit *Quantity omitempty'],
  ],
  SecretVolumeSource: [
    [1, 'secretName string omitempty'],
    [2, 'items []KeyToPath omitempty'],
    [3, 'defaultMode *int32 omitempty'],
    [4, 'optional *bool omitempty'],
  ],
  ConfigMapVolumeSource: [
    [1, '- inline LocalObjectReference'],
    [2, 'items []KeyToPath omitempty'],
    [3, 'defaultMode *int32 omitempty'],
    [4, 'optional *bool omitempty'],
  ],
  KeyToPath: [
    [1, 'key string'],
    [2, 'path string'],
    [3, 'mode *int32 omitempty'],
  ],
  PersistentVolumeClaimVolumeSource: [
    [1, 'claimName string'],
    [2, 'readOnly bool omitempty'],
  ],
};
