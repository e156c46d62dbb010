// OpenTelemetry spans for each hop, behind the @opentelemetry/api interfaces (the only OpenTelemetry
// package installed: no SDK), so a real SDK could replace this file's provider without touching callers:
//   - MeshTracerProvider / tracer / span: parent-based sampling (a sampled parent is sampled; a new trace
//     is sampled with the configured ratio, Istio's default 1%), 16/8-byte random ids;
//   - propagation: W3C traceparent + tracestate in and out; B3 (single `b3` or x-b3-*) accepted in;
//   - export: OTLP/HTTP JSON (`POST <endpoint>` with resourceSpans), batched every second or 512 spans,
//     a bounded queue (2048; spans beyond it are dropped and counted), failures counted, never retried.
// The sidecar makes a CLIENT span per outbound request and a SERVER span per inbound request, and forwards
// the request with its own span as the parent, so an app that copies the trace headers to its own calls
// (as Istio requires) joins every hop into one trace.
import { randomBytes } from 'node:crypto';
import {
  ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context as otContext, trace,
  type Attributes, type AttributeValue, type Context, type Span, type SpanContext, type SpanOptions, type SpanStatus, type Tracer, type TracerProvider,
} from '@opentelemetry/api';
import { headerValue } from './access-log.js';

/** Finished spans go here. */
export interface SpanSink { add(s: MeshSpan): void }

/** A span of this provider (recording only when sampled). */
export class MeshSpan implements Span {
  readonly attributes: Record<string, AttributeValue> = {};
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  endMs = 0;
  private ended = false;
  constructor(public name: string, readonly kind: SpanKind, private readonly sc: SpanContext, readonly parentSpanId: string, readonly startMs: number, private readonly sink: SpanSink | null) {}
  spanContext(): SpanContext { return this.sc; }
  setAttribute(key: string, value: AttributeValue): this { if (this.isRecording()) this.attributes[key] = value; return this; }
  setAttributes(a: Attributes): this { for (const [k, v] of Object.entries(a)) if (v !== undefined) this.setAttribute(k, v); return this; }
  addEvent(): this { return this; }
  addLink(): this { return this; }
  addLinks(): this { return this; }
  setStatus(s: SpanStatus): this { this.status = s; return this; }
  updateName(n: string): this { this.name = n; return this; }
  isRecording(): boolean { return !this.ended && this.sink !== null; }
  recordException(e: unknown): void { this.setAttribute('exception.message', String((e as Error)?.message ?? e)); }
  end(): void {
    if (this.ended) return;
    this.endMs = performance.timeOrigin + performance.now();
    const sink = this.sink;
    this.ended = true;
    sink?.add(this);
  }
}

// Ids come from a pooled random buffer (one randomBytes call per 4 KiB of ids: a call per id cost ~3 µs).
let pool = Buffer.alloc(0);
let at = 0;
const hex = (n: number): string => {
  if (at + n > pool.length) { pool = randomBytes(4096); at = 0; }
  at += n;
  return pool.toString('hex', at - n, at);
};

/** Parent-based sampling with `ratio` (0..1) for new traces. */
export class MeshTracer implements Tracer {
  constructor(private readonly ratio: number, private readonly sink: SpanSink, private readonly random: () => number = Math.random) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = otContext.active()): Span {
    const parent = trace.getSpanContext(ctx);
    const sampled = parent ? (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED : this.random() < this.ratio;
    const sc: SpanContext = {
      traceId: parent?.traceId ?? hex(16), spanId: hex(8), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      ...(parent?.traceState ? { traceState: parent.traceState } : {}),
    };
    const s = new MeshSpan(name, options.kind ?? SpanKind.INTERNAL, sc, parent?.spanId ?? '', performance.timeOrigin + performance.now(), sampled ? this.sink : null);
    if (options.attributes) s.setAttributes(options.attributes);
    return s;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.pop() as F;
    const [options, ctx] = rest as [SpanOptions | undefined, Context | undefined];
    const span = this.startSpan(name, options, ctx);
    return otContext.with(trace.setSpan(ctx ?? otContext.active(), span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

/** OTLP/HTTP JSON export, batched and bounded. */
export class OtlpHttpExporter implements SpanSink {
  private queue: MeshSpan[] = [];
  private readonly timer: NodeJS.Timeout;
  readonly stats = { exported: 0, dropped: 0, failed: 0 };
  constructor(private readonly endpoint: string, private readonly serviceName: string, private readonly maxQueue = 2048, private readonly batch = 512) {
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }
  add(s: MeshSpan): void {
    if (this.queue.length >= this.maxQueue) { this.stats.dropped++; return; }
    this.queue.push(s);
    if (this.queue.length >= this.batch) void this.flush();
  }
  /** Sends what is queued (one POST). */
  async flush(): Promise<void> {
    if (this.queue.length === 0) return;
    const spans = this.queue;
    this.queue = [];
    const attr = (k: string, v: AttributeValue) => ({ key: k, value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : typeof v === 'boolean' ? { boolValue: v } : { stringValue: String(v) } });
    const ns = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
    const body = {
      resourceSpans: [{
        resource: { attributes: [attr('service.name', this.serviceName)] },
        scopeSpans: [{
          scope: { name: 'shoal-proxy' },
          spans: spans.map((s) => ({
            traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name, kind: s.kind + 1, startTimeUnixNano: ns(s.startMs), endTimeUnixNano: ns(s.endMs),
            attributes: Object.entries(s.attributes).map(([k, v]) => attr(k, v)), status: { code: s.status.code },
          })),
        }],
      }],
    };
    try {
      const res = await fetch(this.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
      if (res.ok) this.stats.exported += spans.length;
      else this.stats.failed += spans.length;
      await res.arrayBuffer();
    } catch {
      this.stats.failed += spans.length;
    }
  }
  close(): Promise<void> {
    clearInterval(this.timer);
    return this.flush();
  }
}

/** The provider: one tracer. */
export class MeshTracerProvider implements TracerProvider {
  constructor(private readonly tracer: MeshTracer) {}
  getTracer(): Tracer { return this.tracer; }
}

// ─── propagation ──────────────────────────────────────────────────────────────────────────────────

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const HEX = /^[0-9a-f]+$/;

/** The remote parent in a request's headers (W3C first, then B3), as an OpenTelemetry Context, and the raw tracestate. */
export function extract(headers: readonly string[]): { ctx: Context; tracestate: string | null } {
  const tp = headerValue(headers, 'traceparent');
  const tracestate = headerValue(headers, 'tracestate');
  let sc: SpanContext | null = null;
  const m = tp ? TRACEPARENT.exec(tp.trim()) : null;
  if (m && !/^0+$/.test(m[1]) && !/^0+$/.test(m[2])) sc = { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & 1, isRemote: true };
  if (!sc) {
    const single = headerValue(headers, 'b3');
    const [tid, sid, smp] = single ? single.split('-') : [headerValue(headers, 'x-b3-traceid'), headerValue(headers, 'x-b3-spanid'), headerValue(headers, 'x-b3-sampled') ?? (headerValue(headers, 'x-b3-flags') === '1' ? 'd' : null)];
    if (tid && sid && HEX.test(tid) && HEX.test(sid) && (tid.length === 16 || tid.length === 32) && sid.length === 16)
      sc = { traceId: tid.padStart(32, '0'), spanId: sid, traceFlags: smp === '1' || smp === 'd' || smp === 'true' ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
  }
  return { ctx: sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT, tracestate };
}

const TRACE_HEADERS = new Set(['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags']);

/** Headers with the trace headers replaced by `sc` as the parent (W3C; tracestate kept). */
export function inject(headers: readonly string[], sc: SpanContext, tracestate: string | null): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!TRACE_HEADERS.has(headers[i])) out.push(headers[i], headers[i + 1]);
  out.push('traceparent', `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`);
  if (tracestate) out.push('tracestate', tracestate);
  return out;
}

/** What the listeners use: a tracer and the exporter behind it. */
export interface MeshTracing {
  tracer: Tracer;
  exporter: OtlpHttpExporter;
}

/** Tracing from the sidecar's settings: off without an endpoint; `samplingPercent` 0..100 (Istio's default 1). */
export function meshTracing(endpoint: string, samplingPercent: number, serviceName: string): MeshTracing | undefined {
  if (!endpoint) return undefined;
  const exporter = new OtlpHttpExporter(endpoint, serviceName);
  const provider = new MeshTracerProvider(new MeshTracer(samplingPercent / 100, exporter));
  return { tracer: provider.getTracer(), exporter };
}

/** Starts the hop's span as a child of the request's trace headers and returns the head to forward (its traceparent now this span). */
export function startHop<H extends { headers: readonly string[] }>(t: MeshTracing, head: H, kind: SpanKind): { span: Span; head: H } {
  const p = extract(head.headers);
  const span = t.tracer.startSpan(kind === SpanKind.SERVER ? 'inbound' : 'outbound', { kind }, p.ctx);
  return { span, head: { ...head, headers: inject(head.headers, span.spanContext(), p.tracestate) } };
}

/** Ends a hop's span with Istio's/Envoy's tags (`<service>:<port>/*` name, http.*, response_flags, upstream_cluster). */
export function endHop(span: Span, name: string, a: { method: string; url: string; status: number; flags: string; cluster?: string; requestId?: string | null; upstream?: string }): void {
  if (span.isRecording()) {
    span.updateName(name);
    span.setAttributes({
      'http.method': a.method, 'http.url': a.url, 'http.status_code': a.status, response_flags: a.flags,
      ...(a.cluster ? { upstream_cluster: a.cluster } : {}), ...(a.requestId ? { guid: a.requestId } : {}), ...(a.upstream ? { 'upstream.address': a.upstream } : {}),
    });
    if (a.status === 0 || a.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
