// The schema of core/v1 PodSpec, PodTemplateSpec and PodStatus, field for field with Kubernetes'
// types.go (containers, probes, resources, env/envFrom/valueFrom, volumes and mounts, security
// contexts, affinity, tolerations, topology spread, DNS config...). Workloads reuse podTemplateSpec.

import { any, arr, bool, enm, int, intOrStr, map, obj, qty, str } from '../../schema/schema.js';
import { labelSelector, objectMeta } from '../common.js';

const protocol = enm('TCP', 'UDP', 'SCTP');
const localRef = obj({ name: str });
const keyToPath = arr(obj({ key: str, path: str, mode: int }, ['key', 'path']));
const objectFieldSelector = obj({ apiVersion: str, fieldPath: str }, ['fieldPath']);
const resourceFieldSelector = obj({ containerName: str, resource: str, divisor: qty }, ['resource']);
const seccompProfile = obj({ type: enm('Unconfined', 'RuntimeDefault', 'Localhost'), localhostProfile: str }, ['type']);
const appArmorProfile = obj({ type: enm('Unconfined', 'RuntimeDefault', 'Localhost'), localhostProfile: str }, ['type']);
const seLinuxOptions = obj({ user: str, role: str, type: str, level: str });
const windowsOptions = obj({ gmsaCredentialSpecName: str, gmsaCredentialSpec: str, runAsUserName: str, hostProcess: bool });

const httpGet = obj(
  { path: str, port: intOrStr, host: str, scheme: enm('HTTP', 'HTTPS'), httpHeaders: arr(obj({ name: str, value: str }, ['name', 'value'])) },
  ['port'],
);
const tcpSocket = obj({ port: intOrStr, host: str }, ['port']);
const exec = obj({ command: arr(str) });
const grpc = obj({ port: int, service: str }, ['port']);

/** core/v1 Probe */
export const probe = obj({
  exec,
  httpGet,
  tcpSocket,
  grpc,
  initialDelaySeconds: int,
  timeoutSeconds: int,
  periodSeconds: int,
  successThreshold: int,
  failureThreshold: int,
  terminationGracePeriodSeconds: int,
});

const lifecycleHandler = obj({ exec, httpGet, tcpSocket, sleep: obj({ seconds: int }, ['seconds']) });

/** core/v1 ResourceRequirements */
export const resources = obj({ limits: map(qty), requests: map(qty), claims: arr(obj({ name: str, request: str }, ['name'])) });

const securityContext = obj({
  capabilities: obj({ add: arr(str), drop: arr(str) }),
  privileged: bool,
  seLinuxOptions,
  windowsOptions,
  runAsUser: int,
  runAsGroup: int,
  runAsNonRoot: bool,
  readOnlyRootFilesystem: bool,
  allowPrivilegeEscalation: bool,
  procMount: enm('Default', 'Unmasked'),
  seccompProfile,
  appArmorProfile,
});

const containerFields = {
  name: str,
  image: str,
  command: arr(str),
  args: arr(str),
  workingDir: str,
  ports: arr(obj({ name: str, hostPort: int, containerPort: int, protocol, hostIP: str }, ['containerPort'])),
  envFrom: arr(obj({ prefix: str, configMapRef: obj({ name: str, optional: bool }), secretRef: obj({ name: str, optional: bool }) })),
  env: arr(
    obj(
      {
        name: str,
        value: str,
        valueFrom: obj({
          fieldRef: objectFieldSelector,
          resourceFieldRef: resourceFieldSelector,
          configMapKeyRef: obj({ name: str, key: str, optional: bool }, ['key']),
          secretKeyRef: obj({ name: str, key: str, optional: bool }, ['key']),
          fileKeyRef: obj({ volumeName: str, path: str, key: str, optional: bool }),
        }),
      },
      ['name'],
    ),
  ),
  resources,
  resizePolicy: arr(obj({ resourceName: str, restartPolicy: enm('NotRequired', 'RestartContainer') }, ['resourceName', 'restartPolicy'])),
  restartPolicy: enm('Always'),
  volumeMounts: arr(
    obj(
      {
        name: str,
        readOnly: bool,
        recursiveReadOnly: enm('Disabled', 'IfPossible', 'Enabled'),
        mountPath: str,
        subPath: str,
        mountPropagation: enm('None', 'HostToContainer', 'Bidirectional'),
        subPathExpr: str,
      },
      ['name', 'mountPath'],
    ),
  ),
  volumeDevices: arr(obj({ name: str, devicePath: str }, ['name', 'devicePath'])),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: obj({ postStart: lifecycleHandler, preStop: lifecycleHandler, stopSignal: str }),
  terminationMessagePath: str,
  terminationMessagePolicy: enm('File', 'FallbackToLogsOnError'),
  imagePullPolicy: enm('Always', 'Never', 'IfNotPresent'),
  securityContext,
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
};

/** core/v1 Container */
export const container = obj(containerFields, ['name']);
const ephemeralContainer = obj({ ...containerFields, targetContainerName: str }, ['name']);

const volumeProjection = obj({
  secret: obj({ name: str, items: keyToPath, optional: bool }),
  configMap: obj({ name: str, items: keyToPath, optional: bool }),
  downwardAPI: obj({ items: arr(obj({ path: str, fieldRef: objectFieldSelector, resourceFieldRef: resourceFieldSelector, mode: int }, ['path'])) }),
  serviceAccountToken: obj({ audience: str, expirationSeconds: int, path: str }, ['path']),
  clusterTrustBundle: obj({ name: str, signerName: str, labelSelector, optional: bool, path: str }, ['path']),
  podCertificate: any,
});

/** The volume source fields (exactly one per volume). */
export const volumeSources = [
  'emptyDir', 'hostPath', 'configMap', 'secret', 'persistentVolumeClaim', 'projected', 'downwardAPI', 'nfs', 'csi', 'ephemeral', 'image',
  'iscsi', 'rbd', 'cephfs', 'gcePersistentDisk', 'awsElasticBlockStore', 'azureDisk', 'azureFile', 'fc', 'flexVolume', 'cinder',
  'glusterfs', 'portworxVolume', 'quobyte', 'scaleIO', 'storageos', 'vsphereVolume', 'photonPersistentDisk', 'gitRepo', 'flocker',
] as const;

const legacyVolumes = Object.fromEntries(volumeSources.slice(11).map((k) => [k, any]));

/** core/v1 Volume */
export const volume = obj(
  {
    name: str,
    emptyDir: obj({ medium: enm('', 'Memory', 'HugePages'), sizeLimit: qty }),
    hostPath: obj(
      { path: str, type: enm('', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice') },
      ['path'],
    ),
    configMap: obj({ name: str, items: keyToPath, defaultMode: int, optional: bool }),
    secret: obj({ secretName: str, items: keyToPath, defaultMode: int, optional: bool }),
    persistentVolumeClaim: obj({ claimName: str, readOnly: bool }, ['claimName']),
    projected: obj({ sources: arr(volumeProjection), defaultMode: int }),
    downwardAPI: obj({ items: arr(obj({ path: str, fieldRef: objectFieldSelector, resourceFieldRef: resourceFieldSelector, mode: int }, ['path'])), defaultMode: int }),
    nfs: obj({ server: str, path: str, readOnly: bool }, ['server', 'path']),
    csi: obj({ driver: str, readOnly: bool, fsType: str, volumeAttributes: map(), nodePublishSecretRef: localRef }, ['driver']),
    ephemeral: obj({ volumeClaimTemplate: any }),
    image: obj({ reference: str, pullPolicy: enm('Always', 'Never', 'IfNotPresent') }),
    ...legacyVolumes,
  },
  ['name'],
);

const nodeSelectorRequirement = obj({ key: str, operator: enm('In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'), values: arr(str) }, ['key', 'operator']);
const nodeSelectorTerm = obj({ matchExpressions: arr(nodeSelectorRequirement), matchFields: arr(nodeSelectorRequirement) });
const podAffinityTerm = obj(
  { labelSelector, namespaces: arr(str), topologyKey: str, namespaceSelector: labelSelector, matchLabelKeys: arr(str), mismatchLabelKeys: arr(str) },
  ['topologyKey'],
);
const weightedPodAffinityTerm = obj({ weight: int, podAffinityTerm }, ['weight', 'podAffinityTerm']);
const podAffinity = obj({
  requiredDuringSchedulingIgnoredDuringExecution: arr(podAffinityTerm),
  preferredDuringSchedulingIgnoredDuringExecution: arr(weightedPodAffinityTerm),
});

/** core/v1 Affinity */
export const affinity = obj({
  nodeAffinity: obj({
    requiredDuringSchedulingIgnoredDuringExecution: obj({ nodeSelectorTerms: arr(nodeSelectorTerm) }, ['nodeSelectorTerms']),
    preferredDuringSchedulingIgnoredDuringExecution: arr(obj({ weight: int, preference: nodeSelectorTerm }, ['weight', 'preference'])),
  }),
  podAffinity,
  podAntiAffinity: podAffinity,
});

/** core/v1 Toleration */
export const toleration = obj({
  key: str,
  operator: enm('Exists', 'Equal'),
  value: str,
  effect: enm('', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'),
  tolerationSeconds: int,
});

/** core/v1 PodSpec */
export const podSpec = obj(
  {
    volumes: arr(volume),
    initContainers: arr(container),
    containers: arr(container),
    ephemeralContainers: arr(ephemeralContainer),
    restartPolicy: enm('Always', 'OnFailure', 'Never'),
    terminationGracePeriodSeconds: int,
    activeDeadlineSeconds: int,
    dnsPolicy: enm('ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'),
    nodeSelector: map(),
    serviceAccountName: str,
    serviceAccount: str,
    automountServiceAccountToken: bool,
    nodeName: str,
    hostNetwork: bool,
    hostPID: bool,
    hostIPC: bool,
    shareProcessNamespace: bool,
    securityContext: obj({
      seLinuxOptions,
      windowsOptions,
      runAsUser: int,
      runAsGroup: int,
      runAsNonRoot: bool,
      supplementalGroups: arr(int),
      supplementalGroupsPolicy: enm('Merge', 'Strict'),
      fsGroup: int,
      sysctls: arr(obj({ name: str, value: str }, ['name', 'value'])),
      fsGroupChangePolicy: enm('OnRootMismatch', 'Always'),
      seccompProfile,
      appArmorProfile,
      seLinuxChangePolicy: str,
    }),
    imagePullSecrets: arr(localRef),
    hostname: str,
    hostnameOverride: str,
    subdomain: str,
    affinity,
    schedulerName: str,
    tolerations: arr(toleration),
    hostAliases: arr(obj({ ip: str, hostnames: arr(str) }, ['ip'])),
    priorityClassName: str,
    priority: int,
    dnsConfig: obj({ nameservers: arr(str), searches: arr(str), options: arr(obj({ name: str, value: str })) }),
    readinessGates: arr(obj({ conditionType: str }, ['conditionType'])),
    runtimeClassName: str,
    enableServiceLinks: bool,
    preemptionPolicy: enm('PreemptLowerPriority', 'Never'),
    overhead: map(qty),
    topologySpreadConstraints: arr(
      obj(
        {
          maxSkew: int,
          topologyKey: str,
          whenUnsatisfiable: enm('DoNotSchedule', 'ScheduleAnyway'),
          labelSelector,
          minDomains: int,
          nodeAffinityPolicy: enm('Ignore', 'Honor'),
          nodeTaintsPolicy: enm('Ignore', 'Honor'),
          matchLabelKeys: arr(str),
        },
        ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
      ),
    ),
    setHostnameAsFQDN: bool,
    os: obj({ name: enm('linux', 'windows') }, ['name']),
    hostUsers: bool,
    schedulingGates: arr(obj({ name: str }, ['name'])),
    resourceClaims: arr(obj({ name: str, resourceClaimName: str, resourceClaimTemplateName: str }, ['name'])),
    resources,
  },
  ['containers'],
);

/** core/v1 PodTemplateSpec */
export const podTemplateSpec = obj({ metadata: objectMeta, spec: podSpec });

const containerState = obj({
  waiting: obj({ reason: str, message: str }),
  running: obj({ startedAt: str }),
  terminated: obj({ exitCode: int, signal: int, reason: str, message: str, startedAt: str, finishedAt: str, containerID: str }),
});
const containerStatus = obj({
  name: str,
  state: containerState,
  lastState: containerState,
  ready: bool,
  restartCount: int,
  image: str,
  imageID: str,
  containerID: str,
  started: bool,
  allocatedResources: map(qty),
  resources,
  volumeMounts: any,
  user: any,
  allocatedResourcesStatus: any,
  stopSignal: str,
});
const podCondition = obj({ type: str, status: enm('True', 'False', 'Unknown'), observedGeneration: int, lastProbeTime: str, lastTransitionTime: str, reason: str, message: str });

/** core/v1 PodStatus */
export const podStatus = obj({
  observedGeneration: int,
  phase: enm('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'),
  conditions: arr(podCondition),
  message: str,
  reason: str,
  nominatedNodeName: str,
  hostIP: str,
  hostIPs: arr(obj({ ip: str })),
  podIP: str,
  podIPs: arr(obj({ ip: str })),
  startTime: str,
  initContainerStatuses: arr(containerStatus),
  containerStatuses: arr(containerStatus),
  ephemeralContainerStatuses: arr(containerStatus),
  qosClass: enm('Guaranteed', 'Burstable', 'BestEffort'),
  resize: str,
  resourceClaimStatuses: any,
});
