// The Node object and its heartbeat: register (create, or update an existing Node) with capacity from
// the host, addresses and the agent's port; renew a coordination.k8s.io Lease in kube-node-lease every
// 10 s (duration 40 s), and refresh the Ready condition's heartbeat every minute.

import { cpus, hostname, totalmem, arch, release } from 'node:os';
import { realClock, type Clock } from '../../../lib/time/clock.js';
import type { KubeClient } from '../../../api/client/client.js';
import { isAlreadyExists, isNotFound } from '../../../api/client/errors.js';

const nodesRef = { apiVersion: 'v1', plural: 'nodes', namespaced: false } as const;
const leasesRef = { apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true } as const;
const nsRef = { apiVersion: 'v1', plural: 'namespaces', namespaced: false } as const;

/** What registration needs. */
export interface NodeInfo {
  name: string;
  hostIP: string;
  port: number;
  podCIDR: string;
  maxPods?: number;
}

/** The host's capacity in Kubernetes' units. */
export function hostCapacity(maxPods = 110): Record<string, string> {
  return { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: String(maxPods), 'ephemeral-storage': '10Gi' };
}

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const microTime = () => new Date().toISOString().replace(/Z$/, '000Z');

/** The Node object for this host. */
export function nodeObject(n: NodeInfo): Record<string, any> {
  const cap = hostCapacity(n.maxPods);
  const now = nowIso();
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch() } },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: {
      capacity: cap, allocatable: cap,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'shoal node agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      addresses: [{ type: 'InternalIP', address: n.hostIP }, { type: 'Hostname', address: hostname() }],
      daemonEndpoints: { kubeletEndpoint: { Port: n.port } },
      nodeInfo: { kubeletVersion: 'v1.31.0-shoal', kernelVersion: release(), operatingSystem: 'linux', architecture: arch(), containerRuntimeVersion: 'shoal://0.1.0', osImage: 'Shoal', kubeProxyVersion: '', machineID: '', systemUUID: '', bootID: '' },
    },
  };
}

/** Registers the node and keeps its lease; `stop()` ends the heartbeats. */
export class NodeHeartbeat {
  private leaseTimer?: unknown;
  private statusTimer?: unknown;

  constructor(private readonly client: KubeClient, private readonly n: NodeInfo, private readonly log: (m: string, e?: unknown) => void, private readonly leaseEveryMs = 10_000, private readonly clock: Clock = realClock) {}

  async register(): Promise<void> {
    const obj = nodeObject(this.n);
    try {
      await this.client.create(nodesRef, obj as any);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const cur = await this.client.get(nodesRef, this.n.name);
      await this.client.update(nodesRef, { ...cur, metadata: { ...cur.metadata, labels: { ...(cur.metadata.labels ?? {}), ...obj.metadata.labels } }, spec: { ...(cur as any).spec, ...obj.spec } } as any);
    }
    await this.client.patch(nodesRef, this.n.name, { status: obj.status }, { type: 'merge', subresource: 'status' });
    // the API server makes kube-node-lease; a node (RBAC system:node) may read namespaces, not create them,
    // so it creates it only when it is really missing (an API server that does not make it)
    try {
      await this.client.get(nsRef, 'kube-node-lease');
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.client.create(nsRef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } } as any).catch((err) => {
        if (!isAlreadyExists(err)) throw err;
      });
    }
    await this.renewLease();
    this.leaseTimer = this.clock.setInterval(() => void this.renewLease().catch((e) => this.log('lease renew', e)), this.leaseEveryMs);
    this.statusTimer = this.clock.setInterval(() => void this.heartbeatStatus().catch((e) => this.log('node status', e)), 60_000);
  }

  /** Renews (or creates) the node's Lease. */
  async renewLease(): Promise<void> {
    const spec = { holderIdentity: this.n.name, leaseDurationSeconds: 40, renewTime: microTime() };
    try {
      await this.client.patch(leasesRef, this.n.name, { spec }, { namespace: 'kube-node-lease', type: 'merge' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.client.create(leasesRef, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name: this.n.name, namespace: 'kube-node-lease', ownerReferences: [] },
        spec,
      } as any, { namespace: 'kube-node-lease' });
    }
  }

  private async heartbeatStatus(): Promise<void> {
    const now = nowIso();
    const cur = await this.client.get(nodesRef, this.n.name);
    const conds = (((cur as any).status?.conditions ?? []) as any[]).map((c) => (c.type === 'Ready' ? { ...c, lastHeartbeatTime: now } : c));
    await this.client.patch(nodesRef, this.n.name, { status: { conditions: conds } }, { type: 'merge', subresource: 'status' });
  }

  stop(): void {
    if (this.leaseTimer) this.clock.clearInterval(this.leaseTimer);
    if (this.statusTimer) this.clock.clearInterval(this.statusTimer);
  }
}
