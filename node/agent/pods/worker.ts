// One worker per pod: sandbox (adopted or created), init containers in order, then the app containers,
// each under its own supervisor; the pod's status snapshot; graceful termination (every container's
// preStop + SIGTERM within the grace period, SIGKILL, then the sandbox: CNI DEL and namespace removal).
//
// Native sidecars (init containers with restartPolicy Always, Kubernetes 1.29+): started in their place
// among the init containers; the next init container (and so the app) starts once the sidecar is
// started (its startupProbe passed, if it has one); they restart on exit whatever the pod's policy;
// their readiness counts for the pod's Ready; on termination they are stopped after the app containers,
// in reverse order, with what is left of the grace period; when every app container of a
// Never/OnFailure pod has finished, they are stopped the same way and the pod completes.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageCatalog } from '../images/catalog.js';
import type { Os } from '../os.js';
import type { Clock } from '../../../lib/time/clock.js';
import type { BackoffPolicy } from '../containers/backoff.js';
import type { Cgroups } from '../containers/cgroups.js';
import { Container, type ContainerRecord } from '../containers/container.js';
import { ConfigError, type ObjectSource, type PodFacts } from '../containers/env.js';
import { planMounts, type VolumeContext } from '../containers/volumes.js';
import { podHostname } from '../sandbox/dns.js';
import { podDir, type SandboxInfo, type Sandboxes } from '../sandbox/sandbox.js';
import type { PodSnapshot } from './status.js';
import { type Pod, podKey } from './types.js';

/** Least time a sidecar gets to stop after the app containers used up the grace period (kubelet: 2 s). */
const MIN_SIDECAR_GRACE_MS = 2000;

/** Node-wide services a worker uses. */
export interface WorkerDeps {
  os: Os;
  home: string;
  sandboxes: Sandboxes;
  cgroups: Cgroups;
  catalog: ImageCatalog;
  objects: ObjectSource;
  volumes: Omit<VolumeContext, 'objects' | 'facts'>;
  node: { hostIP: string; cpu: number; memory: number; kubernetesServiceIP?: string };
  backoff: BackoffPolicy;
  clock: Clock;
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  changed(w: PodWorker): void;
  /** called once before the first sandbox (host routes) */
  beforeFirstSandbox(): Promise<void>;
  log(msg: string, err?: unknown): void;
}

interface Persisted {
  initialized: boolean;
  containers: Record<string, ContainerRecord>;
}

/** Runs one pod. */
export class PodWorker {
  pod: Pod;
  sandbox?: SandboxInfo;
  readonly init: Container[];
  readonly app: Container[];
  /** ephemeral containers (`kubectl debug`), added while the pod runs */
  readonly ephemeral: Container[] = [];
  initialized: boolean;
  startTime?: string;
  failed?: { reason: string; message: string };
  terminating?: Promise<void>;
  private readonly ctx: ConstructorParameters<typeof Container>[2];
  private readonly cdeps: ConstructorParameters<typeof Container>[3];
  /** when the pod became Ready (benchmarks) */
  readyAt?: number;
  readonly createdAt: number;
  private stopped = false;
  private sandboxTimer?: unknown;
  /** the app containers of a Never/OnFailure pod finished and the sidecars are being stopped */
  private completing = false;

  constructor(pod: Pod, private readonly d: WorkerDeps) {
    this.pod = pod;
    this.createdAt = d.clock.now();
    const dir = podDir(d.home, pod.metadata.uid!);
    const ctx = {
      pod: () => this.pod, facts: () => this.facts(), holderPid: () => this.sandbox?.holderPid ?? -1, podDir: dir,
      hostname: podHostname(pod), grace: () => this.pod.spec.terminationGracePeriodSeconds ?? 30,
    };
    const cdeps = (this.cdeps = {
      os: d.os, catalog: d.catalog, cgroups: d.cgroups, objects: d.objects, backoff: d.backoff, clock: d.clock,
      event: (t: 'Normal' | 'Warning', r: string, m: string) => d.event(this.pod, t, r, m),
      changed: () => {
        this.checkCompletion();
        d.changed(this);
      },
      persist: () => this.persist(),
    });
    this.ctx = ctx;
    this.init = (pod.spec.initContainers ?? []).map((c) => new Container(c, true, ctx, cdeps));
    this.app = pod.spec.containers.map((c) => new Container(c, false, ctx, cdeps));
    this.initialized = this.init.length === 0;
    if (!this.initialized) for (const c of this.init) c.status.state = { waiting: { reason: 'PodInitializing' } };
    if (!this.initialized) for (const c of this.app) c.status.state = { waiting: { reason: 'PodInitializing' } };
  }

  get key(): string {
    return podKey(this.pod);
  }

  facts(): PodFacts {
    return {
      podIP: this.sandbox?.podIPs[0] ?? (this.pod.spec.hostNetwork ? this.d.node.hostIP : undefined), podIPs: this.sandbox?.podIPs, hostIP: this.d.node.hostIP,
      nodeCpu: this.d.node.cpu, nodeMemory: this.d.node.memory, ...(this.d.node.kubernetesServiceIP ? { kubernetesServiceIP: this.d.node.kubernetesServiceIP } : {}),
    };
  }

  /** The status inputs. */
  snapshot(): PodSnapshot {
    const podIPs = this.pod.spec.hostNetwork ? (this.sandbox ? [this.d.node.hostIP] : []) : (this.sandbox?.podIPs ?? []);
    return {
      hostIP: this.d.node.hostIP, podIPs, startTime: this.startTime, initStatuses: this.init.map((c) => c.status), statuses: this.app.map((c) => c.status),
      ...(this.ephemeral.length ? { ephemeralStatuses: this.ephemeral.map((c) => c.status) } : {}), initialized: this.initialized, failed: this.failed,
    };
  }

  /**
   * Starts the ephemeral containers the pod's spec gained (`kubectl debug` through pods/ephemeralcontainers)
   * once the pod's sandbox exists and its init containers are done; each runs once.
   */
  syncEphemeral(): void {
    if (this.stopped || !this.sandbox || !this.initialized) return;
    for (const spec of this.pod.spec.ephemeralContainers ?? []) {
      if (this.ephemeral.some((c) => c.spec.name === spec.name)) continue;
      const c = new Container(spec, true, this.ctx, this.cdeps, true);
      this.ephemeral.push(c);
      this.d.changed(this);
      void c.start().catch((e) => this.d.log(`pod ${this.key}: ephemeral container ${spec.name}`, e));
    }
  }

  private persist(): void {
    if (!this.sandbox) return;
    const p: Persisted = { initialized: this.initialized, containers: {} };
    for (const c of [...this.init, ...this.app, ...this.ephemeral]) {
      const r = c.record();
      if (r) p.containers[`${c.ephemeral ? 'ephemeral' : c.isInit ? 'init' : 'app'}/${c.spec.name}`] = r;
    }
    try {
      writeFileSync(join(this.sandbox.dir, 'containers.json'), JSON.stringify(p));
    } catch (e) {
      this.d.log(`pod ${this.key}: saving container state`, e);
    }
  }

  /** Starts the pod (adopting what survived a previous agent when `adopt` is set). */
  async start(adopt: boolean): Promise<void> {
    this.startTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (adopt && this.tryAdopt()) return;
    const leftover = this.d.sandboxes.load(this.pod.metadata.uid!);
    if (leftover) await this.d.sandboxes.destroy(leftover).catch((e) => this.d.log(`pod ${this.key}: removing stale sandbox`, e));
    await this.createSandbox();
  }

  private tryAdopt(): boolean {
    const sb = this.d.sandboxes.adopt(this.pod.metadata.uid!);
    if (!sb) return false;
    let p: Persisted;
    try {
      p = JSON.parse(readFileSync(join(sb.dir, 'containers.json'), 'utf8')) as Persisted;
    } catch {
      p = { initialized: false, containers: {} };
    }
    this.sandbox = sb;
    this.initialized = p.initialized || this.init.length === 0;
    // sidecars that survived are adopted; runInitThenApp then only waits for them to be started
    for (const c of this.init.filter((x) => x.sidecar)) {
      const r = p.containers[`init/${c.spec.name}`];
      if (r && r.exitCode === undefined) c.adopt(r);
    }
    if (!this.initialized) {
      void this.runInitThenApp();
      return true;
    }
    for (const c of this.init) {
      if (c.sidecar) {
        const r = p.containers[`init/${c.spec.name}`];
        if (c.proc) continue;
        if (r && r.exitCode !== undefined) c.adopt(r); // stopped for good (the pod completed)
        else if (r) c.adoptDead(r); // died while no agent watched: restarted
        else void c.start().catch((e) => this.d.log(`pod ${this.key}: container ${c.spec.name}`, e));
        continue;
      }
      c.adopt({ pid: -1, startTime: '', restartCount: 0, startedAt: '', exitCode: 0 });
    }
    for (const c of this.app) {
      const r = p.containers[`app/${c.spec.name}`];
      if (r && c.adopt(r)) continue;
      if (r) c.adoptDead(r); // died while no agent watched
      else void c.start().catch((e) => this.d.log(`pod ${this.key}: container ${c.spec.name}`, e));
    }
    for (const spec of this.pod.spec.ephemeralContainers ?? []) {
      const r = p.containers[`ephemeral/${spec.name}`];
      const c = new Container(spec, true, this.ctx, this.cdeps, true);
      this.ephemeral.push(c);
      if (r && !c.adopt(r)) c.adoptDead(r); // ran once: never started again
      else if (!r) void c.start().catch((e) => this.d.log(`pod ${this.key}: ephemeral container ${spec.name}`, e));
    }
    this.checkCompletion(); // the app finished while no agent watched: stop the sidecars now
    this.d.changed(this);
    return true;
  }

  private async createSandbox(): Promise<void> {
    if (this.stopped) return;
    try {
      const mounts = await planMounts(this.pod, podDir(this.d.home, this.pod.metadata.uid!), { ...this.d.volumes, objects: this.d.objects, facts: this.facts() });
      await this.d.beforeFirstSandbox();
      this.sandbox = await this.d.sandboxes.create(this.pod, mounts);
    } catch (e) {
      if (this.stopped) return;
      const reason = e instanceof ConfigError ? 'FailedMount' : 'FailedCreatePodSandBox';
      const msg = (e as Error).message;
      this.d.event(this.pod, 'Warning', reason, reason === 'FailedMount' ? `MountVolume.SetUp failed: ${msg}` : `Failed to create pod sandbox: ${msg}`);
      for (const c of [...this.init, ...this.app]) c.status.state = { waiting: { reason: 'ContainerCreating', message: msg } };
      this.d.changed(this);
      this.sandboxTimer = this.d.clock.setTimeout(() => void this.createSandbox(), 2000);
      return;
    }
    if (this.stopped) {
      await this.d.sandboxes.destroy(this.sandbox).catch(() => undefined);
      return;
    }
    this.persist();
    this.d.changed(this);
    await this.runInitThenApp();
  }

  private async runInitThenApp(): Promise<void> {
    for (const c of this.init) {
      if (this.stopped) return;
      if (c.sidecar) {
        if (!c.proc) await c.start();
        await c.whenStarted();
        continue;
      }
      const first = c.nextExit();
      await c.start();
      let e = await first;
      while (e.exitCode !== 0) {
        if (this.stopped) return;
        if ((this.pod.spec.restartPolicy ?? 'Always') === 'Never') {
          this.failed = { reason: 'Failed', message: `init container ${c.spec.name} failed with exit code ${e.exitCode}` };
          this.d.changed(this);
          return;
        }
        e = await c.nextExit(); // the supervisor restarts it after its back-off
      }
      if (this.stopped) return;
    }
    this.initialized = true;
    this.persist();
    for (const c of this.app) c.status.state = { waiting: { reason: 'ContainerCreating' } };
    this.d.changed(this);
    this.syncEphemeral();
    await Promise.all(this.app.map((c) => c.start().catch((e) => this.d.log(`pod ${this.key}: container ${c.spec.name}`, e))));
  }

  /** Whether every app container and every native sidecar is ready. */
  ready(): boolean {
    return this.initialized && this.app.every((c) => c.status.ready) && this.init.every((c) => !c.sidecar || c.status.ready);
  }

  /** A Never/OnFailure pod whose app containers all finished: stop its sidecars so it completes. */
  private checkCompletion(): void {
    if (this.completing || this.stopped || !this.initialized || this.app.length === 0) return;
    if (!this.app.every((c) => c.finished)) return;
    const sidecars = this.init.filter((c) => c.sidecar && !c.stopped);
    if (!sidecars.length) return;
    this.completing = true;
    const graceMs = (this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    void this.stopSidecars(sidecars, Date.now() + graceMs).catch((e) => this.d.log(`pod ${this.key}: stopping sidecars`, e));
  }

  /** Stops sidecars one by one, last first, each with what is left of the grace period (at least 2 s). */
  private async stopSidecars(sidecars: Container[], deadline: number): Promise<void> {
    for (const c of [...sidecars].reverse()) {
      if (c.proc) this.d.event(this.pod, 'Normal', 'Killing', `Stopping container ${c.spec.name}`);
      await c.stop(Math.max(deadline - Date.now(), MIN_SIDECAR_GRACE_MS));
    }
  }

  /** Stops supervising (agent shutdown) and leaves the pod running for adoption. */
  detach(): void {
    this.stopped = true;
    if (this.sandboxTimer) this.d.clock.clearTimeout(this.sandboxTimer);
    for (const c of [...this.init, ...this.app, ...this.ephemeral]) c.detach();
  }

  /** Graceful termination, then the sandbox and the pod's state and cgroups. Idempotent. */
  terminate(graceSeconds: number): Promise<void> {
    if (!this.terminating) this.terminating = this.doTerminate(graceSeconds);
    return this.terminating;
  }

  private async doTerminate(graceSeconds: number): Promise<void> {
    this.stopped = true;
    if (this.sandboxTimer) this.d.clock.clearTimeout(this.sandboxTimer);
    const graceMs = Math.max(0, graceSeconds) * 1000;
    const deadline = Date.now() + graceMs;
    for (const c of this.app) if (c.proc) this.d.event(this.pod, 'Normal', 'Killing', `Stopping container ${c.spec.name}`);
    // app (and running init) containers first; the sidecars outlive them, so in-flight connections drain
    await Promise.all([...this.init.filter((c) => !c.sidecar), ...this.app, ...this.ephemeral].map((c) => c.stop(graceMs)));
    const sidecars = this.init.filter((c) => c.sidecar);
    if (graceMs === 0) await Promise.all(sidecars.map((c) => c.stop(0)));
    else await this.stopSidecars(sidecars, deadline);
    if (this.sandbox) await this.d.sandboxes.destroy(this.sandbox).catch((e) => this.d.log(`pod ${this.key}: sandbox teardown`, e));
    const left = this.d.cgroups.removePod(this.pod.metadata.uid!);
    if (left.length) this.d.log(`pod ${this.key}: cgroups left: ${left.join(', ')}`);
  }
}
