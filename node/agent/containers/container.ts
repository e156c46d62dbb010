// One container's supervisor: resolve its image and environment, start it in the pod's namespaces,
// run its probes, and on exit decide (restart policy + crash back-off) whether and when it starts again.
// Waiting reasons follow the kubelet: ErrImagePull → ImagePullBackOff for unknown images,
// CreateContainerConfigError for missing secrets/config maps, CrashLoopBackOff while backing off.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { containerArgv, type ImageCatalog } from '../images/catalog.js';
import type { Os } from '../os.js';
import type { Clock } from '../../../lib/time/clock.js';
import { ProbeLoop, runAction } from '../probes/probe.js';
import type { ContainerStatus } from '../pods/status.js';
import { type ContainerSpec, type Pod, isSidecar } from '../pods/types.js';
import { identityPrefix, processIdentity } from './identity.js';
import { type BackoffPolicy, type BackoffState, nextDelay, shouldRestart } from './backoff.js';
import { type Cgroups, limitsOf } from './cgroups.js';
import { ConfigError, type ObjectSource, type PodFacts, kubernetesServiceEnv, resolveEnv } from './env.js';
import { execInPod, type ExitInfo, type RunningProcess, startProcess, stopProcess, watchAdopted } from './runner.js';

/** What a container needs from its pod and node. */
export interface ContainerDeps {
  os: Os;
  catalog: ImageCatalog;
  cgroups: Cgroups;
  objects: ObjectSource;
  backoff: BackoffPolicy;
  clock: Clock;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  changed(): void;
  persist(): void;
}

/** The pod-level facts a container reads at start. */
export interface PodContext {
  pod: () => Pod;
  facts: () => PodFacts;
  holderPid: () => number;
  podDir: string;
  hostname: string;
  grace: () => number;
}

/** What is persisted per container for adoption. */
export interface ContainerRecord {
  pid: number;
  startTime: string;
  restartCount: number;
  startedAt: string;
  exitCode?: number;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** Supervises one container (app or init). */
export class Container {
  readonly status: ContainerStatus;
  proc?: RunningProcess;
  env: Record<string, string> = {};
  private backoffState: BackoffState = {};
  private pullBackoff: BackoffState = {};
  private startedMs = 0;
  private timer: unknown;
  private probes: ProbeLoop[] = [];
  private stopping = false;
  /** set when the container exited and will not run again (or init container succeeded) */
  finished?: ExitInfo;
  /** resolves on every exit (init containers wait on it) */
  private exitWaiters: ((e: ExitInfo) => void)[] = [];
  /** resolve when the container counts as started (the pod worker waits on native sidecars) */
  private startedWaiters: (() => void)[] = [];
  /** a native sidecar: an init container with restartPolicy Always */
  readonly sidecar: boolean;
  /** argv prefix switching to the container's user (runAsUser/runAsGroup) */
  private userPrefix: string[] = [];

  /**
   * `ephemeral`: a `kubectl debug` container (spec.ephemeralContainers): run once in the running pod, never
   * restarted, never ready, no probes (it is created as an init container would be, which has none).
   */
  constructor(readonly spec: ContainerSpec, readonly isInit: boolean, private readonly ctx: PodContext, private readonly d: ContainerDeps, readonly ephemeral = false) {
    this.sidecar = isInit && !ephemeral && isSidecar(spec);
    this.status = {
      name: spec.name, image: spec.image ?? '', imageID: '', state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {}, ready: false, started: false, restartCount: 0,
    };
  }

  /** The FIFO that is the container's stdin (`stdin: true`), else undefined. */
  stdinPath(): string | undefined {
    return this.spec.stdin ? join(this.ctx.podDir, 'stdin', this.spec.name) : undefined;
  }

  logFile(index = this.status.restartCount): string {
    return join(this.ctx.podDir, 'logs', this.spec.name, `${index}.log`);
  }

  /** The record saved for adoption. */
  record(): ContainerRecord | undefined {
    if (this.finished) return { pid: -1, startTime: '', restartCount: this.status.restartCount, startedAt: '', exitCode: this.finished.exitCode };
    if (!this.proc) return undefined;
    return { pid: this.proc.pid, startTime: this.proc.startTime, restartCount: this.status.restartCount, startedAt: this.status.state.running?.startedAt ?? '' };
  }

  /** Waits for the next exit. */
  nextExit(): Promise<ExitInfo> {
    return new Promise((r) => this.exitWaiters.push(r));
  }

  /** Resolves once the container is started (its startupProbe passed, if it has one) or is stopped. */
  whenStarted(): Promise<void> {
    if (this.status.started || this.stopping) return Promise.resolve();
    return new Promise((r) => this.startedWaiters.push(r));
  }

  private setStarted(v: boolean): void {
    this.status.started = v;
    if (v) for (const w of this.startedWaiters.splice(0)) w();
  }

  /** The argv prefix that runs a command as this container's user (exec, probes, hooks). */
  get execPrefix(): string[] {
    return this.userPrefix;
  }

  /** Whether stop() was called (the pod is terminating or the sidecar is done). */
  get stopped(): boolean {
    return this.stopping;
  }

  private retryLater(ms: number): void {
    this.d.clock.clearTimeout(this.timer);
    this.timer = this.d.clock.setTimeout(() => void this.start(), ms);
  }

  /** Resolves image and env, then starts the process; on a config problem, waits and retries. */
  async start(): Promise<void> {
    if (this.stopping) return;
    const pod = this.ctx.pod();
    const img = this.d.catalog.resolve(this.spec.image ?? '');
    if (!img) {
      const first = this.status.state.waiting?.reason !== 'ErrImagePull' && this.status.state.waiting?.reason !== 'ImagePullBackOff';
      const msg = `image "${this.spec.image}" is not in the node's image catalog (add it with: shoal image add ${this.spec.image} -- CMD ARGS…)`;
      const { delayMs, state } = nextDelay(this.pullBackoff, 0, this.d.backoff);
      this.pullBackoff = state;
      this.status.state = { waiting: { reason: first ? 'ErrImagePull' : 'ImagePullBackOff', message: first ? msg : `Back-off pulling image "${this.spec.image}": ${msg}` } };
      this.d.event('Warning', first ? 'Failed' : 'BackOff', first ? `Failed to pull image "${this.spec.image}": ${msg}` : `Back-off pulling image "${this.spec.image}"`);
      this.d.changed();
      this.retryLater(first ? Math.min(1000, this.d.backoff.initialMs) : Math.max(delayMs, 1000));
      return;
    }
    this.pullBackoff = {};
    this.status.imageID = `shoal-catalog://${img.name}:${img.tag}`;
    try {
      const base = { ...kubernetesServiceEnv(this.ctx.facts().kubernetesServiceIP), HOSTNAME: this.ctx.hostname, SHOAL_IMAGE_TAG: img.tag, ...(img.env ?? {}) };
      this.env = await resolveEnv(pod, this.spec, this.d.objects, this.ctx.facts(), base);
      try {
        this.userPrefix = identityPrefix(processIdentity(pod, this.spec));
      } catch (e) {
        throw new ConfigError((e as Error).message);
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.status.state = { waiting: { reason: 'CreateContainerConfigError', message: e.message } };
      this.d.event('Warning', 'Failed', `Error: ${e.message}`);
      this.d.changed();
      this.retryLater(Math.min(this.d.backoff.initialMs, 2000));
      return;
    }
    if (this.stopping) return;
    const cgroupProcs = this.d.cgroups.setup(pod.metadata.uid!, this.spec.name, limitsOf(this.spec));
    const old = this.logFile(this.status.restartCount - 2);
    if (this.status.restartCount >= 2 && existsSync(old)) rmSync(old, { force: true });
    const argv = containerArgv(img, this.spec.command, this.spec.args);
    try {
      const stdinFifo = this.stdinPath();
      if (stdinFifo && !existsSync(stdinFifo)) {
        mkdirSync(dirname(stdinFifo), { recursive: true });
        const r = await this.d.os.run('mkfifo', ['-m', '600', stdinFifo], { timeoutMs: 5000 });
        if (r.code !== 0) throw new Error(`mkfifo ${stdinFifo}: ${r.stderr.trim() || r.startError || `exit ${r.code}`}`);
      }
      this.proc = await startProcess(this.d.os, { holderPid: this.ctx.holderPid(), argv, env: this.env, workingDir: this.spec.workingDir, logFile: this.logFile(), cgroupProcs, userPrefix: this.userPrefix, ...(stdinFifo ? { stdinFifo } : {}) });
    } catch (e) {
      this.status.state = { waiting: { reason: 'RunContainerError', message: (e as Error).message } };
      this.d.event('Warning', 'Failed', `Error: ${(e as Error).message}`);
      this.d.changed();
      this.retryLater(2000);
      return;
    }
    this.startedMs = this.d.clock.now();
    this.running(iso(this.startedMs));
    this.d.event('Normal', 'Started', `Started container ${this.spec.name}`);
  }

  /** Adopts a process that survived an agent restart. */
  adopt(r: ContainerRecord): boolean {
    this.status.restartCount = r.restartCount;
    if (r.exitCode !== undefined) {
      this.finished = { exitCode: r.exitCode, known: true };
      this.status.state = { terminated: { exitCode: r.exitCode, reason: r.exitCode === 0 ? 'Completed' : 'Error', finishedAt: iso(this.d.clock.now()) } };
      return true;
    }
    if (r.pid <= 0 || !this.d.os.alive(r.pid) || this.d.os.startTime(r.pid) !== r.startTime) return false;
    this.proc = watchAdopted(this.d.os, r.pid, r.startTime);
    this.startedMs = Date.parse(r.startedAt) || this.d.clock.now();
    this.running(r.startedAt || iso(this.startedMs));
    return true;
  }

  /** A process that died while no agent watched: record it as exited (exit unknown) and apply the policy. */
  adoptDead(r: ContainerRecord): void {
    const terminated = {
      exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated',
      startedAt: r.startedAt || undefined, finishedAt: iso(this.d.clock.now()),
    };
    if (this.ephemeral || (!this.sidecar && !shouldRestart(this.ctx.pod().spec.restartPolicy, 137))) {
      this.status.restartCount = r.restartCount;
      this.status.state = { terminated };
      this.finished = { exitCode: 137, known: false };
      this.d.persist();
      this.d.changed();
      return;
    }
    this.status.restartCount = r.restartCount + 1;
    this.status.lastState = { terminated };
    void this.start();
  }

  private running(startedAt: string): void {
    const proc = this.proc!;
    this.status.state = { running: { startedAt } };
    this.status.containerID = `shoal://${proc.pid}`;
    // a native sidecar is ready as an app container is; a run-to-completion init container never is
    this.status.ready = this.isInit && !this.sidecar ? false : !this.spec.readinessProbe && !this.spec.startupProbe;
    this.setStarted(!this.spec.startupProbe);
    this.d.persist();
    this.d.changed();
    if (!this.isInit || this.sidecar) this.startProbes();
    void proc.exited.then((e) => {
      if (this.proc === proc) this.onExit(e);
    });
  }

  private startProbes(): void {
    const t = { podIP: this.ctx.facts().podIP || '127.0.0.1', exec: (argv: string[], ms: number) => execInPod(this.d.os, this.ctx.holderPid(), [...this.userPrefix, ...argv], this.env, ms, undefined, this.spec.workingDir) };
    const make = (p: NonNullable<ContainerSpec['livenessProbe']>, onChange: (ok: boolean, m: string) => void) =>
      new ProbeLoop(p, () => runAction(p, this.spec, t, (p.timeoutSeconds ?? 1) * 1000), onChange, this.d.clock);
    const rest = () => {
      if (this.spec.readinessProbe) {
        const l = make(this.spec.readinessProbe, (ok, m) => {
          this.status.ready = ok;
          if (!ok) this.d.event('Warning', 'Unhealthy', `Readiness probe failed: ${m}`);
          this.d.changed();
        });
        this.probes.push(l);
        l.start();
      }
      if (this.spec.livenessProbe) {
        const l = make(this.spec.livenessProbe, (ok, m) => {
          if (ok) return;
          this.d.event('Warning', 'Unhealthy', `Liveness probe failed: ${m}`);
          this.kill(`Container ${this.spec.name} failed liveness probe, will be restarted`, this.spec.livenessProbe?.terminationGracePeriodSeconds);
        });
        this.probes.push(l);
        l.start();
      }
    };
    if (this.spec.startupProbe) {
      const l = make(this.spec.startupProbe, (ok, m) => {
        if (ok) {
          l.stop();
          if (!this.spec.readinessProbe) this.status.ready = true;
          this.setStarted(true);
          this.d.changed();
          rest();
        } else {
          this.d.event('Warning', 'Unhealthy', `Startup probe failed: ${m}`);
          this.kill(`Container ${this.spec.name} failed startup probe, will be restarted`, this.spec.startupProbe?.terminationGracePeriodSeconds);
        }
      });
      this.probes.push(l);
      l.start();
    } else rest();
  }

  private stopProbes(): void {
    for (const p of this.probes) p.stop();
    this.probes = [];
  }

  /** Kills the running process (probe failure); the exit handler applies the restart policy. */
  kill(message: string, graceSeconds?: number): void {
    this.d.event('Normal', 'Killing', message);
    if (this.proc) void stopProcess(this.d.os, this.proc, (graceSeconds ?? this.ctx.grace()) * 1000);
  }

  private onExit(e: ExitInfo): void {
    this.stopProbes();
    // the container is its cgroup: nothing it started outlives its main process
    this.d.cgroups.killContainer(this.ctx.pod().metadata.uid!, this.spec.name);
    const now = this.d.clock.now();
    const terminated = {
      exitCode: e.exitCode, ...(e.signal ? { signal: e.signal } : {}),
      reason: !e.known ? 'ContainerStatusUnknown' : e.exitCode === 0 ? 'Completed' : e.exitCode === 137 ? 'Error' : 'Error',
      ...(!e.known ? { message: 'The container could not be located when the pod was terminated' } : {}),
      startedAt: this.status.state.running?.startedAt, finishedAt: iso(now), containerID: this.status.containerID,
    };
    this.status.state = { terminated };
    this.status.ready = false;
    this.status.started = false;
    this.proc = undefined;
    for (const w of this.exitWaiters.splice(0)) w(e);
    const policy = this.ctx.pod().spec.restartPolicy ?? 'Always';
    // native sidecars restart whatever the pod's policy, until the pod stops them
    const restart = !this.stopping && !this.ephemeral && (this.sidecar || (this.isInit ? e.exitCode !== 0 && policy !== 'Never' : shouldRestart(policy, e.exitCode)));
    if (!restart) {
      this.finished = e;
      this.d.persist();
      this.d.changed();
      return;
    }
    const { delayMs, state } = nextDelay(this.backoffState, now - this.startedMs, this.d.backoff);
    this.backoffState = state;
    this.status.lastState = { terminated };
    this.status.restartCount++;
    if (delayMs === 0) {
      this.d.changed();
      void this.start();
      return;
    }
    const msg = `back-off ${formatDelay(delayMs)} restarting failed container=${this.spec.name} pod=${this.ctx.pod().metadata.name}_${this.ctx.pod().metadata.namespace}(${this.ctx.pod().metadata.uid})`;
    this.status.state = { waiting: { reason: 'CrashLoopBackOff', message: msg } };
    this.d.event('Warning', 'BackOff', 'Back-off restarting failed container');
    this.d.changed();
    this.retryLater(delayMs);
  }

  /** Lets go without killing (agent shutdown): the process keeps running for the next agent to adopt. */
  detach(): void {
    this.stopping = true;
    for (const w of this.startedWaiters.splice(0)) w();
    this.d.clock.clearTimeout(this.timer);
    this.stopProbes();
    this.proc = undefined;
  }

  /** Stops for good: preStop hook, SIGTERM, grace, SIGKILL. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const w of this.startedWaiters.splice(0)) w();
    this.d.clock.clearTimeout(this.timer);
    this.stopProbes();
    const proc = this.proc;
    if (!proc) return;
    const deadline = Date.now() + graceMs;
    const pre = this.spec.lifecycle?.preStop;
    if (pre && graceMs > 0) {
      const t = { podIP: this.ctx.facts().podIP || '127.0.0.1', exec: (argv: string[], ms: number) => execInPod(this.d.os, this.ctx.holderPid(), [...this.userPrefix, ...argv], this.env, ms, undefined, this.spec.workingDir) };
      await Promise.race([runAction(pre, this.spec, t, graceMs), new Promise((r) => setTimeout(r, graceMs))]);
    }
    await stopProcess(this.d.os, proc, Math.max(0, deadline - Date.now()));
  }
}

/** Go-style duration for back-off messages (10s, 1m20s, 5m0s). */
export function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60}s`;
}
