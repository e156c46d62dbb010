// Per upstream cluster state that outlives config snapshots: DestinationRule `connectionPool` limits
// (circuit breaking), the retry budget, and `outlierDetection` (passive health: consecutive errors eject
// an endpoint for baseEjectionTime × its ejection count). Owned by the outbound path (one per cluster name,
// kept across snapshots like the balancers) and consulted by the protocol modules through the
// ExchangePolicy of a forward decision. The clock is a seam.
//
// HTTP/1.1 carries one request per connection at a time, so `maxConnections` bounds the cluster's
// in-flight requests (with http2MaxRequests); a request beyond it waits in a FIFO of at most
// http1MaxPendingRequests, and one beyond that overflows (503, flag UO), as Envoy's circuit breakers do.
import type { AttemptOutcome } from './policy.js';

/** DestinationRule connectionPool, compiled (Istio's defaults: unlimited, connect timeout 10 s). */
export interface PoolLimits {
  maxConnections: number;
  maxPending: number;
  maxRequests: number;
  maxRetries: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
  connectTimeoutMs: number;
  /** 0: the pool's default. */
  idleTimeoutMs: number;
  /** Retry budget (Istio's trafficPolicy.retryBudget; Envoy's defaults 20% and 3): concurrent retries ≤ max(min, percent × active requests). */
  budgetPercent: number;
  budgetMinConcurrency: number;
}

/** DestinationRule outlierDetection, compiled with Istio's defaults. */
export interface OutlierPolicy {
  /** 0 disables. */
  consecutive5xx: number;
  consecutiveGateway: number;
  intervalMs: number;
  baseEjectionMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

const UNLIMITED = 2 ** 32 - 1;
export const DEFAULT_LIMITS: PoolLimits = Object.freeze({
  maxConnections: UNLIMITED, maxPending: UNLIMITED, maxRequests: UNLIMITED, maxRetries: UNLIMITED, maxRequestsPerConnection: 0, connectTimeoutMs: 10_000, idleTimeoutMs: 0,
  budgetPercent: 20, budgetMinConcurrency: 3,
});
export const DEFAULT_OUTLIER: OutlierPolicy = Object.freeze({
  consecutive5xx: 5, consecutiveGateway: 0, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0,
});

interface HostState { c5xx: number; cGw: number; ejections: number; ejectedUntil: number }

/** Admission result. */
export type Admission = 'now' | 'queued' | 'overflow';

/** One cluster's circuit breakers, retry budget and outlier detector. */
export class ClusterGuard {
  private active = 0;
  private retries = 0;
  private readonly pending: (() => void)[] = [];
  private readonly hosts = new Map<string, HostState>();
  /** Counters for metrics and admin. */
  readonly stats = { overflow: 0, retryOverflow: 0, ejections: 0 };

  constructor(public limits: PoolLimits = DEFAULT_LIMITS, public outlier: OutlierPolicy | null = null, private readonly now: () => number = () => performance.now()) {}

  /** Asks for a request slot: `now` (run), `queued` (`start` runs later), `overflow`. Every `now`/`queued` needs one `release`. */
  admit(start: () => void): Admission {
    if (this.active < Math.min(this.limits.maxConnections, this.limits.maxRequests)) {
      this.active++;
      return 'now';
    }
    if (this.pending.length >= this.limits.maxPending) {
      this.stats.overflow++;
      return 'overflow';
    }
    this.pending.push(start);
    return 'queued';
  }

  /** Gives back a slot (or withdraws a queued `start`, which then never runs). */
  release(start?: () => void): void {
    if (start) {
      const i = this.pending.indexOf(start);
      if (i !== -1) return void this.pending.splice(i, 1);
    }
    const next = this.pending.shift();
    if (next) return next(); // the slot passes on
    this.active--;
  }

  /** In-flight requests (admin, tests). */
  activeRequests(): number {
    return this.active;
  }

  /** A retry may start (Envoy's retry budget and maxRetries); pair with `retryDone`. */
  tryRetry(): boolean {
    const budget = Math.max(this.limits.budgetMinConcurrency, Math.floor((this.active * this.limits.budgetPercent) / 100));
    if (this.retries >= Math.min(budget, this.limits.maxRetries)) {
      this.stats.retryOverflow++;
      return false;
    }
    this.retries++;
    return true;
  }

  retryDone(): void {
    if (this.retries > 0) this.retries--;
  }

  // ─── outlier detection ──────────────────────────────────────────────────────────────────────────

  /** Records how an attempt on `host` (`address:port`) ended; may eject it. */
  report(host: string, o: AttemptOutcome): void {
    const od = this.outlier;
    if (!od) return;
    let h = this.hosts.get(host);
    const five = o.kind === 'response' ? o.status >= 500 : true; // local-origin errors count as 5xx (split off)
    const gw = o.kind === 'response' ? o.status === 502 || o.status === 503 || o.status === 504 : true;
    if (!five) {
      if (h) { h.c5xx = 0; h.cGw = 0; }
      return;
    }
    if (!h) this.hosts.set(host, (h = { c5xx: 0, cGw: 0, ejections: 0, ejectedUntil: 0 }));
    h.c5xx++;
    if (gw) h.cGw++;
    const t = this.now();
    if (h.ejectedUntil > t) return;
    if ((od.consecutive5xx > 0 && h.c5xx >= od.consecutive5xx) || (od.consecutiveGateway > 0 && h.cGw >= od.consecutiveGateway)) {
      h.c5xx = 0;
      h.cGw = 0;
      h.ejections++;
      h.ejectedUntil = t + od.baseEjectionMs * h.ejections;
      this.stats.ejections++;
    }
  }

  /** Whether `host` is ejected now. */
  ejected(host: string): boolean {
    const h = this.hosts.get(host);
    return !!h && h.ejectedUntil > this.now();
  }

  /**
   * The endpoints to balance over: without the ejected ones, but at most maxEjectionPercent of them
   * (at least one may always go, as Envoy), and all of them when fewer than minHealthPercent stay healthy.
   */
  healthy<E extends { address: string; port: number }>(eps: readonly E[]): readonly E[] {
    const od = this.outlier;
    if (!od || this.hosts.size === 0) return eps;
    const t = this.now();
    const out: E[] = [];
    let ejected = 0;
    const maxEjected = Math.max(1, Math.floor((eps.length * od.maxEjectionPercent) / 100));
    for (const e of eps) {
      const h = this.hosts.get(`${e.address}:${e.port}`);
      if (h && h.ejectedUntil > t && ejected < maxEjected) ejected++;
      else out.push(e);
    }
    if (out.length === 0 || (out.length * 100) / eps.length < od.minHealthPercent) return eps;
    return out;
  }
}
