// What the HPA controller remembers between syncs and how it turns a metric's recommendation into the
// replica count it sets (pkg/controller/podautoscaler/horizontal.go), pure over an explicit `now`:
//  - without spec.behavior: the highest recommendation of the last 5 minutes (the downscale
//    stabilization window), then the legacy rate (at most max(2 × current, 4)) and min/max;
//  - with spec.behavior: scale-up and scale-down stabilization windows over the recommendations, then
//    the rate policies (Pods/Percent per periodSeconds, selectPolicy Max/Min/Disabled) measured against
//    the scale events of each period, then min/max. Each step reports the condition reason kube sets.

/** A scaling policy. */
export interface Policy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}
/** spec.behavior.scaleUp / scaleDown after defaulting. */
export interface Rules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: Policy[];
}
/** The arguments of one normalization. */
export interface NormalizeArgs {
  key: string;
  current: number;
  desired: number;
  min: number;
  max: number;
  behavior?: { scaleUp?: Rules; scaleDown?: Rules };
  now: number;
}
/** A condition the normalization asks for. */
export interface CondReq {
  status: 'True' | 'False';
  reason: string;
  message: string;
}
/** The outcome: replicas to set and the AbleToScale / ScalingLimited conditions. */
export interface Normalized {
  replicas: number;
  ableToScale: CondReq;
  scalingLimited: CondReq;
}

/** kube's --horizontal-pod-autoscaler-downscale-stabilization default. */
export const DOWNSCALE_STABILIZATION_MS = 5 * 60_000;

const WITHIN: CondReq = { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const MSG = {
  ScaleUpLimit: 'the desired replica count is increasing faster than the maximum scale rate',
  ScaleDownLimit: 'the desired replica count is decreasing faster than the maximum scale rate',
  TooManyReplicas: 'the desired replica count is more than the maximum replica count',
  TooFewReplicas: 'the desired replica count is less than the minimum replica count',
};

interface Rec { ts: number; replicas: number }
interface ScaleEvent { ts: number; change: number }

/** Per-HPA memory: recent recommendations and scale events (lost on restart, as in kube). */
export class HpaMemory {
  private readonly recs = new Map<string, Rec[]>();
  private readonly up = new Map<string, ScaleEvent[]>();
  private readonly down = new Map<string, ScaleEvent[]>();

  constructor(private readonly downscaleStabilizationMs = DOWNSCALE_STABILIZATION_MS) {}

  /** Forget an HPA that was deleted. */
  forget(key: string): void {
    this.recs.delete(key);
    this.up.delete(key);
    this.down.delete(key);
  }

  /** Record a rescale from `from` to `to`, keeping events within the longest policy period. */
  recordScale(key: string, from: number, to: number, now: number, behavior?: NormalizeArgs['behavior']): void {
    if (!behavior || from === to) return;
    const list = to > from ? this.up : this.down;
    const rules = to > from ? behavior.scaleUp : behavior.scaleDown;
    const longest = Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds)) * 1000;
    const kept = (list.get(key) ?? []).filter((e) => e.ts > now - longest);
    kept.push({ ts: now, change: Math.abs(to - from) });
    list.set(key, kept);
  }

  /** The replica count to set for a recommendation. */
  normalize(a: NormalizeArgs): Normalized {
    return a.behavior ? this.withBehavior(a) : this.legacy(a);
  }

  private legacy(a: NormalizeArgs): Normalized {
    const recs = (this.recs.get(a.key) ?? []).filter((r) => r.ts > a.now - this.downscaleStabilizationMs);
    let stabilized = a.desired;
    for (const r of recs) if (r.replicas > stabilized) stabilized = r.replicas;
    recs.push({ ts: a.now, replicas: a.desired });
    this.recs.set(a.key, recs);
    const ableToScale: CondReq = stabilized !== a.desired
      ? { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
    const scaleUpLimit = Math.max(2 * a.current, 4);
    const [maxAllowed, reason] = a.max > scaleUpLimit ? [scaleUpLimit, 'ScaleUpLimit' as const] : [a.max, 'TooManyReplicas' as const];
    let replicas = stabilized;
    let limited = WITHIN;
    if (stabilized < a.min) { replicas = a.min; limited = { status: 'True', reason: 'TooFewReplicas', message: MSG.TooFewReplicas }; }
    else if (stabilized > maxAllowed) { replicas = maxAllowed; limited = { status: 'True', reason, message: MSG[reason] }; }
    return { replicas, ableToScale, scalingLimited: limited };
  }

  private withBehavior(a: NormalizeArgs): Normalized {
    const up = a.behavior!.scaleUp ?? {};
    const down = a.behavior!.scaleDown ?? {};
    const upWindow = (up.stabilizationWindowSeconds ?? 0) * 1000;
    const downWindow = down.stabilizationWindowSeconds !== undefined ? down.stabilizationWindowSeconds * 1000 : this.downscaleStabilizationMs;
    let upRec = a.desired;
    let downRec = a.desired;
    const all = this.recs.get(a.key) ?? [];
    for (const r of all) {
      if (r.ts > a.now - upWindow) upRec = Math.min(r.replicas, upRec);
      if (r.ts > a.now - downWindow) downRec = Math.max(r.replicas, downRec);
    }
    let stabilized = a.current;
    if (stabilized < upRec) stabilized = upRec;
    if (stabilized > downRec) stabilized = downRec;
    const keepFor = Math.max(upWindow, downWindow);
    this.recs.set(a.key, [...all.filter((r) => r.ts > a.now - keepFor), { ts: a.now, replicas: a.desired }]);
    let ableToScale: CondReq = { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
    if (stabilized !== a.desired)
      ableToScale = stabilized < a.desired
        ? { status: 'True', reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
        : { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
    const r = this.rate({ ...a, desired: stabilized }, up, down);
    return { replicas: r.replicas, ableToScale, scalingLimited: r.replicas === stabilized ? { ...r.cond, status: 'False' } : { ...r.cond, status: 'True' } };
  }

  private changeIn(list: ScaleEvent[] | undefined, periodSeconds: number, now: number): number {
    return (list ?? []).filter((e) => e.ts > now - periodSeconds * 1000).reduce((s, e) => s + e.change, 0);
  }

  private rate(a: NormalizeArgs, up: Rules, down: Rules): { replicas: number; cond: CondReq } {
    if (a.desired > a.current) {
      let limit = scaleUpLimit(a.current, up, (p) => this.changeIn(this.up.get(a.key), p, a.now));
      if (limit < a.current) limit = a.current;
      const [maxAllowed, reason] = a.max > limit ? [limit, 'ScaleUpLimit' as const] : [a.max, 'TooManyReplicas' as const];
      if (a.desired > maxAllowed) return { replicas: maxAllowed, cond: { status: 'True', reason, message: MSG[reason] } };
    } else if (a.desired < a.current) {
      let limit = scaleDownLimit(a.current, down, (p) => this.changeIn(this.down.get(a.key), p, a.now));
      if (limit > a.current) limit = a.current;
      const [minAllowed, reason] = a.min < limit ? [limit, 'ScaleDownLimit' as const] : [a.min, 'TooFewReplicas' as const];
      if (a.desired < minAllowed) return { replicas: minAllowed, cond: { status: 'True', reason, message: MSG[reason] } };
    }
    return { replicas: a.desired, cond: WITHIN };
  }
}

/** kube's calculateScaleUpLimitWithScalingRules; `changed(period)` = replicas added in that period. */
export function scaleUpLimit(current: number, r: Rules, changed: (periodSeconds: number) => number): number {
  if (r.selectPolicy === 'Disabled') return current;
  const pick = r.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = r.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of r.policies ?? []) {
    const start = current - changed(p.periodSeconds);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** kube's calculateScaleDownLimitWithBehaviors; `changed(period)` = replicas removed in that period. */
export function scaleDownLimit(current: number, r: Rules, changed: (periodSeconds: number) => number): number {
  if (r.selectPolicy === 'Disabled') return current;
  const pick = r.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = r.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of r.policies ?? []) {
    const start = current + changed(p.periodSeconds);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}
