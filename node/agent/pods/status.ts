// The pod status the agent reports, computed from what its worker knows: phase (kubelet's getPhase
// rules), the four conditions, podIP/podIPs, hostIP, and container statuses. Pure: the worker passes a
// snapshot and the previous status (so lastTransitionTime only moves when a condition changes).

import type { Pod } from './types.js';

/** Kubernetes' ContainerState: exactly one key set. */
export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: { exitCode: number; signal?: number; reason: string; message?: string; startedAt?: string; finishedAt: string; containerID?: string };
}

/** A container's status entry. */
export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
}

/** What the worker knows about the pod right now. */
export interface PodSnapshot {
  hostIP: string;
  podIPs: string[];
  startTime?: string;
  initStatuses: ContainerStatus[];
  statuses: ContainerStatus[];
  /** ephemeral containers (`kubectl debug`), when any */
  ephemeralStatuses?: ContainerStatus[];
  /** every init container has succeeded */
  initialized: boolean;
  /** set when the pod failed for good (e.g. an init container failed under restartPolicy Never) */
  failed?: { reason: string; message: string };
}

type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** Names of the pod's native sidecars (init containers with restartPolicy Always). */
function sidecarNames(pod: Pod): Set<string> {
  return new Set((pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
}

/** kubelet's getPhase, for the app containers (native sidecars never decide the phase). */
export function podPhase(pod: Pod, s: PodSnapshot): Phase {
  if (s.failed) return 'Failed';
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (!s.initialized) {
    const sidecars = sidecarNames(pod);
    const failedInit = s.initStatuses.some((c) => !sidecars.has(c.name) && c.state.terminated && c.state.terminated.exitCode !== 0);
    return failedInit && policy === 'Never' ? 'Failed' : 'Pending';
  }
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of s.statuses) {
    if (c.state.running) running++;
    else if (c.state.terminated) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.state.waiting) {
      if (c.lastState.terminated) stopped++; // restarting: counts as stopped-then-running
      else waiting++;
    }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === s.statuses.length && stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (succeeded === stopped) return 'Succeeded';
    if (policy === 'OnFailure') return 'Running';
    return 'Failed';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, now: string, prev: any[] | undefined, reason?: string, message?: string) {
  const old = prev?.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  const c: Record<string, unknown> = { type, status, lastProbeTime: null, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

/** The whole status object the agent writes. */
export function podStatus(pod: Pod, s: PodSnapshot, now: Date): Record<string, any> {
  const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const prev = pod.status?.conditions as any[] | undefined;
  const phase = podPhase(pod, s);
  const sidecars = sidecarNames(pod);
  // a native sidecar's readiness counts for the pod's (kubelet 1.29+); it is initialized once started
  const notReady = [...s.initStatuses.filter((c) => sidecars.has(c.name)), ...s.statuses].filter((c) => !c.ready).map((c) => c.name);
  const pendingInit = s.initStatuses.filter((c) => (sidecars.has(c.name) ? !c.started : !(c.state.terminated && c.state.terminated.exitCode === 0))).map((c) => c.name);
  const containersReady = notReady.length === 0 && phase === 'Running';
  const notReadyMsg = `containers with unready status: [${notReady.join(' ')}]`;
  const status: Record<string, any> = {
    phase,
    conditions: [
      condition('PodReadyToStartContainers', s.podIPs.length > 0 || !!pod.spec.hostNetwork, ts, prev),
      condition('Initialized', s.initialized, ts, prev, 'ContainersNotInitialized', `containers with incomplete status: [${pendingInit.join(' ')}]`),
      condition('Ready', containersReady, ts, prev, phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady', notReadyMsg),
      condition('ContainersReady', containersReady, ts, prev, phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady', notReadyMsg),
      condition('PodScheduled', true, ts, prev),
    ],
    hostIP: s.hostIP,
    hostIPs: [{ ip: s.hostIP }],
    qosClass: qosClass(pod),
    containerStatuses: s.statuses,
  };
  if (s.podIPs.length) {
    status.podIP = s.podIPs[0];
    status.podIPs = s.podIPs.map((ip) => ({ ip }));
  }
  if (s.startTime) status.startTime = s.startTime;
  if (s.initStatuses.length) status.initContainerStatuses = s.initStatuses;
  if (s.ephemeralStatuses?.length) status.ephemeralContainerStatuses = s.ephemeralStatuses;
  if (s.failed) Object.assign(status, s.failed);
  return status;
}

/** Kubernetes' QoS class from requests and limits. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? {};
    if (Object.keys(l).length || Object.keys(r).length) any = true;
    for (const res of ['cpu', 'memory']) {
      if (l[res] === undefined) guaranteed = false;
      else if (r[res] !== undefined && String(r[res]) !== String(l[res])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
