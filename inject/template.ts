// What the injector adds to a pod, as Istio's sidecar template (native-sidecar variant) writes it: the
// `istio-init` init container (capture rules), the `istio-proxy` native sidecar (an init container with
// restartPolicy Always, UID 1337, startup + readiness probes on :15021), the `istiod-ca-cert` volume,
// and the labels and annotations Istio sets. Pure data in, data out.

import { PROXY_UID, STATUS_PORT, PROMETHEUS_PORT, MERGED_METRICS_PORT, captureArgs } from './capture.js';

/** Images of the two injected containers. */
export const PROXY_IMAGE = 'shoal/sidecar';
export const INIT_IMAGE = 'shoal/proxy-init';
/** Container and volume names (Istio's). */
export const INIT_NAME = 'istio-init';
export const PROXY_NAME = 'istio-proxy';
export const CA_VOLUME = 'istiod-ca-cert';
export const CA_CONFIGMAP = 'istio-ca-root-cert';
export const CA_MOUNT = '/var/run/secrets/istio';
export const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Where the sidecar finds mesh control (CA and discovery). */
export const ISTIOD_ADDR = 'istiod.istio-system.svc:15012';

/** Pod-level facts the template reads. */
export interface TemplateInput {
  namespace: string;
  workloadName: string;
  serviceAccount: string;
  annotations: Record<string, string>;
  /** the app containers (for ISTIO_META_APP_CONTAINERS / POD_PORTS) */
  containers: any[];
  /** the app container's service-account token mount, copied to the proxy when present */
  tokenMount?: any;
}

/** Shoal's own per-pod knobs (annotations), passed to the sidecar as environment. */
export const SHOAL_ANNOTATIONS = {
  tunnel: 'sidecar.shoal.io/tunnel',
  certTtl: 'sidecar.shoal.io/cert-ttl',
} as const;

/** The `istio-init` container. */
export function initContainer(annotations: Record<string, string>): any {
  return {
    name: INIT_NAME,
    image: INIT_IMAGE,
    args: captureArgs(annotations),
    resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '10m', memory: '40Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      privileged: false, readOnlyRootFilesystem: false, runAsGroup: 0, runAsNonRoot: false, runAsUser: 0,
    },
  };
}

const field = (fieldPath: string) => ({ valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

/** The `istio-proxy` native sidecar. */
export function proxyContainer(t: TemplateInput): any {
  const ports = t.containers.flatMap((c) => c.ports ?? []).map((p: any) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' }));
  const env: any[] = [
    { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
    { name: 'CA_ADDR', value: ISTIOD_ADDR },
    { name: 'PILOT_ADDR', value: ISTIOD_ADDR },
    { name: 'POD_NAME', ...field('metadata.name') },
    { name: 'POD_NAMESPACE', ...field('metadata.namespace') },
    { name: 'INSTANCE_IP', ...field('status.podIP') },
    { name: 'SERVICE_ACCOUNT', ...field('spec.serviceAccountName') },
    { name: 'HOST_IP', ...field('status.hostIP') },
    { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(ports) },
    { name: 'ISTIO_META_APP_CONTAINERS', value: t.containers.map((c) => c.name).join(',') },
    { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
    { name: 'ISTIO_META_NODE_NAME', ...field('spec.nodeName') },
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: t.workloadName },
    { name: 'ISTIO_META_MESH_ID', value: 'cluster.local' },
    { name: 'TRUST_DOMAIN', value: 'cluster.local' },
    { name: 'SHOAL_TUNNEL', value: t.annotations[SHOAL_ANNOTATIONS.tunnel] ?? 'hbone' },
  ];
  if (t.annotations[SHOAL_ANNOTATIONS.certTtl]) env.push({ name: 'SHOAL_CERT_TTL', value: t.annotations[SHOAL_ANNOTATIONS.certTtl] });
  const probe = (p: Record<string, number>) => ({ httpGet: { path: '/healthz/ready', port: STATUS_PORT, scheme: 'HTTP' }, ...p });
  return {
    name: PROXY_NAME,
    image: PROXY_IMAGE,
    restartPolicy: 'Always',
    ports: [{ name: 'http-envoy-prom', containerPort: PROMETHEUS_PORT, protocol: 'TCP' }],
    env,
    resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true,
      runAsGroup: PROXY_UID, runAsNonRoot: true, runAsUser: PROXY_UID,
    },
    startupProbe: probe({ initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 }),
    readinessProbe: probe({ initialDelaySeconds: 0, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 }),
    volumeMounts: [
      { name: CA_VOLUME, mountPath: CA_MOUNT },
      ...(t.tokenMount ? [{ ...t.tokenMount }] : []),
    ],
  };
}

/** The volume holding the mesh root certificate. */
export function caVolume(): any {
  return { name: CA_VOLUME, configMap: { name: CA_CONFIGMAP } };
}

/** The status annotation, exactly as Istio writes it for a native sidecar. */
export function statusAnnotation(): string {
  return JSON.stringify({ initContainers: [INIT_NAME, PROXY_NAME], containers: null, volumes: [CA_VOLUME], imagePullSecrets: null, revision: 'default' });
}

/** Istio's annotations on an injected pod (the status one plus these). */
export function podAnnotations(firstContainer: string | undefined): Record<string, string> {
  return {
    ...(firstContainer ? { 'kubectl.kubernetes.io/default-container': firstContainer, 'kubectl.kubernetes.io/default-logs-container': firstContainer } : {}),
    'istio.io/rev': 'default',
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': String(MERGED_METRICS_PORT),
    'prometheus.io/scrape': 'true',
    'sidecar.istio.io/status': statusAnnotation(),
  };
}

/** Istio's canonical service labels: explicit, else app.kubernetes.io/*, else app/version, else workload/latest. */
export function canonicalLabels(labels: Record<string, string>, workloadName: string): Record<string, string> {
  return {
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? workloadName,
    'service.istio.io/canonical-revision': labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest',
  };
}
