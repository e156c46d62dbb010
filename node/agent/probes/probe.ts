// Liveness, readiness and startup probes: one loop per probe that waits initialDelaySeconds, then runs the
// action every periodSeconds with timeoutSeconds, and flips its result only after successThreshold
// successes or failureThreshold failures in a row (Kubernetes' semantics). Actions: httpGet (2xx/3xx),
// tcpSocket (connect), exec (exit 0), run against the pod IP or inside the pod. Timing goes through a
// Clock so the threshold and schedule logic is tested without waiting.

import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { type Clock, realClock } from '../../../lib/time/clock.js';
import type { ContainerSpec, Handler, Probe } from '../pods/types.js';

/** Probe fields with Kubernetes' defaults filled in. */
export function probeTiming(p: Probe): Required<Pick<Probe, 'initialDelaySeconds' | 'timeoutSeconds' | 'periodSeconds' | 'successThreshold' | 'failureThreshold'>> {
  return {
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    timeoutSeconds: p.timeoutSeconds ?? 1,
    periodSeconds: p.periodSeconds ?? 10,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
}

/** Consecutive-result counter: returns the new result when a threshold is crossed, else undefined. */
export class ThresholdCounter {
  private successes = 0;
  private failures = 0;
  result: boolean | undefined;

  constructor(private readonly successThreshold: number, private readonly failureThreshold: number) {}

  record(ok: boolean): boolean | undefined {
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (this.successes >= this.successThreshold && this.result !== true) return (this.result = true);
    } else {
      this.successes = 0;
      this.failures++;
      if (this.failures >= this.failureThreshold && this.result !== false) return (this.result = false);
    }
    return undefined;
  }
}

/** Where actions run: the pod's IP and a way to exec inside the container. */
export interface ProbeTarget {
  podIP: string;
  exec(argv: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A named port (`http`) resolved against the container's ports. */
export function resolvePort(port: number | string, c: ContainerSpec): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = c.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`port ${JSON.stringify(port)}: no container port of that name`);
  return p.containerPort;
}

/** Runs one action; resolves with success and a short message. */
export function runAction(h: Handler, c: ContainerSpec, t: ProbeTarget, timeoutMs: number): Promise<{ ok: boolean; message: string }> {
  try {
    if (h.exec) return t.exec(h.exec.command, timeoutMs).then((r) => ({ ok: r.code === 0, message: r.code === 0 ? '' : `exit ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 200)}` }));
    if (h.httpGet) return httpProbe(h.httpGet, c, t, timeoutMs);
    if (h.tcpSocket) return tcpProbe(h.tcpSocket.host || t.podIP, resolvePort(h.tcpSocket.port, c), timeoutMs);
    if (h.sleep) return new Promise((r) => setTimeout(() => r({ ok: true, message: '' }), h.sleep!.seconds * 1000));
  } catch (e) {
    return Promise.resolve({ ok: false, message: (e as Error).message });
  }
  return Promise.resolve({ ok: false, message: 'probe has no action' });
}

function httpProbe(g: NonNullable<Handler['httpGet']>, c: ContainerSpec, t: ProbeTarget, timeoutMs: number): Promise<{ ok: boolean; message: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.31', accept: '*/*' };
    for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
    const opts = { host: g.host || t.podIP, port: resolvePort(g.port, c), path: g.path || '/', method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false };
    const req = (g.scheme === 'HTTPS' ? httpsRequest : request)(opts, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve({ ok: code >= 200 && code < 400, message: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`Get "http://${opts.host}:${opts.port}${opts.path}": context deadline exceeded`)));
    req.on('error', (e) => resolve({ ok: false, message: e.message }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; message: string }> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: timeoutMs });
    s.on('connect', () => {
      s.destroy();
      resolve({ ok: true, message: '' });
    });
    s.on('timeout', () => {
      s.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    s.on('error', (e) => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${e.message}` }));
  });
}

/** One probe's loop. `onChange` gets each threshold crossing. */
export class ProbeLoop {
  private timer: unknown;
  private stopped = false;
  readonly counter: ThresholdCounter;
  /** how many times the action ran (tests) */
  runs = 0;
  lastMessage = '';

  constructor(
    private readonly probe: Probe,
    private readonly action: () => Promise<{ ok: boolean; message: string }>,
    private readonly onChange: (ok: boolean, message: string) => void,
    private readonly clock: Clock = realClock,
  ) {
    const t = probeTiming(probe);
    this.counter = new ThresholdCounter(t.successThreshold, t.failureThreshold);
  }

  /** Starts after initialDelaySeconds. */
  start(): void {
    this.timer = this.clock.setTimeout(() => void this.tick(), probeTiming(this.probe).initialDelaySeconds * 1000);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const t = probeTiming(this.probe);
    this.runs++;
    const r = await this.action();
    if (this.stopped) return;
    this.lastMessage = r.message;
    const changed = this.counter.record(r.ok);
    if (changed !== undefined) this.onChange(changed, r.message);
    if (!this.stopped) this.timer = this.clock.setTimeout(() => void this.tick(), t.periodSeconds * 1000);
  }
}
