// bench/netpol/fixture: the objects the NetworkPolicy benchmark writes, as pure data. A client and a
// server pod in `np-app` with a handful of other pods spread over three more namespaces, and N background
// policies shaped like a real cluster's: a quarter select the server (so its ingress chain and sets grow
// with N) with pod, namespace and ipBlock peers and ports that never match the client; the rest select
// other pods, add egress rules, or select nothing. `server-open` is a twin of the server no policy selects. `allowClient` is the one policy that lets the client
// in: deleting it denies, creating it allows — the two edges the benchmark times.

import type { KubeObject } from '../../api/meta.js';

/** The app namespace: client, server, db, cache. */
export const APP_NS = 'np-app';
/** Background namespaces, each with one pod. */
export const BG_NS = ['np-bg0', 'np-bg1', 'np-bg2'];
/** The server's HTTP port (shoal/hello listens on 8080). */
export const SERVER_PORT = 8080;

/** The namespaces, labelled so some namespace selectors match (never `np-app`: no `team`). */
export function namespaces(): KubeObject[] {
  return [APP_NS, ...BG_NS].map((name, i): KubeObject => {
    const labels: Record<string, string> = name === APP_NS ? { tier: 'app' } : { team: `t${i % 7}`, tier: 'bg' };
    return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
  });
}

function pod(name: string, namespace: string, labels: Record<string, string>, image: string, port?: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image, ...(port ? { ports: [{ name: 'http', containerPort: port }] } : {}) }],
    },
  };
}

/** The pods: client, server and server-open run shoal/hello (the client only for its netns), the rest shoal/pause. */
export function pods(): KubeObject[] {
  return [
    pod('client', APP_NS, { app: 'client', role: 'probe' }, 'shoal/hello:1'),
    pod('server', APP_NS, { app: 'server', tier: 'web' }, 'shoal/hello:1', SERVER_PORT),
    // the same server that no policy selects: the throughput control measured alongside, sample by sample
    pod('server-open', APP_NS, { app: 'server-open', tier: 'web' }, 'shoal/hello:1', SERVER_PORT),
    pod('db', APP_NS, { app: 'db', tier: 'data' }, 'shoal/pause'),
    pod('cache', APP_NS, { app: 'cache', tier: 'data' }, 'shoal/pause'),
    ...BG_NS.map((ns, k) => pod(`other-${k}`, ns, { app: `other-${k}`, tier: 'bg' }, 'shoal/pause')),
  ];
}

/** The ClusterIP Service in front of the server (port 80 → 8080). */
export function serverService(): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'server', namespace: APP_NS },
    spec: { selector: { app: 'server' }, ports: [{ name: 'http', port: 80, targetPort: SERVER_PORT }] },
  };
}

function netpol(name: string, namespace: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace, labels: { 'bench.shoal.io/netpol': 'bg' } }, spec };
}

/** The one policy that admits the client to the server on 8080. */
export function allowClient(): KubeObject {
  return netpol('allow-client', APP_NS, {
    podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ protocol: 'TCP', port: SERVER_PORT }] }],
  });
}

/** Background policy number `i` (0-based); i % 4 picks the shape, policy 0 always selects the server. */
export function backgroundPolicy(i: number): KubeObject {
  const name = `bg-${i}`;
  const other = BG_NS[i % BG_NS.length]!;
  switch (i % 4) {
    case 0: // selects the server; peers never match the client (no role=fe-*, np-app has no `team`)
      return netpol(name, APP_NS, {
        podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: `fe-${i}` } } }], ports: [{ protocol: 'TCP', port: SERVER_PORT }] },
          { from: [{ namespaceSelector: { matchLabels: { team: `t${i % 7}` } }, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['bg', 'edge'] }] } }], ports: [{ protocol: 'TCP', port: 9000 + (i % 500) }, { protocol: 'TCP', port: 'http' }] },
          { from: [{ ipBlock: { cidr: `192.168.${i % 256}.0/24`, except: [`192.168.${i % 256}.128/25`] } }], ports: [{ protocol: 'TCP', port: 10000, endPort: 10000 + (i % 100) }] },
        ],
      });
    case 1: // a background pod, admitted from np-app's data tier
      return netpol(name, other, {
        podSelector: { matchLabels: { app: `other-${BG_NS.indexOf(other)}` } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': APP_NS } }, podSelector: { matchLabels: { tier: 'data' } } }], ports: [{ protocol: 'TCP', port: 5000 + (i % 1000) }] }],
      });
    case 2: // np-app's data tier: ingress from the server, egress to DNS and the server
      return netpol(name, APP_NS, {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'cache'] }] }, policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'server' } } }], ports: [{ protocol: 'TCP', port: 5432 }, { protocol: 'TCP', port: 6379 }] }],
        egress: [
          { to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
          { to: [{ podSelector: { matchLabels: { app: 'server' } } }], ports: [{ protocol: 'TCP', port: SERVER_PORT + (i % 3) }] },
        ],
      });
    default: // selects nothing that exists
      return netpol(name, i % 8 === 3 ? APP_NS : other, {
        podSelector: { matchLabels: { app: `ghost-${i}` } },
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 443 }] }],
      });
  }
}

/** A deny-all-ingress policy on the server: the sentinel that proves the enforcer has caught up. */
export function sentinelDenyServer(): KubeObject {
  return netpol('sentinel-deny', APP_NS, { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'], ingress: [] });
}
