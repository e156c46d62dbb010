// proxy/telemetry: trace context extraction (W3C, B3 single and multi, invalid ones ignored), injection
// (trace headers replaced, tracestate kept), parent-based ratio sampling, the OTLP/HTTP JSON body a
// collector receives (hex ids, kinds, nanosecond times, attributes), and the access log line's fields.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { extract, inject, MeshTracer, OtlpHttpExporter, startHop, endHop, type MeshSpan } from '../../proxy/telemetry/tracing.js';
import { entryOf, withRequestId } from '../../proxy/telemetry/access-log.js';
import { parseRequestHead } from '../../proxy/http1/parse.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736', SID = '00f067aa0ba902b7';

t.test('extract: W3C first, then B3; invalid contexts ignored', async (t) => {
  const sc = (h: string[]) => trace.getSpanContext(extract(h).ctx);
  t.match(sc(['traceparent', `00-${TID}-${SID}-01`]), { traceId: TID, spanId: SID, traceFlags: 1, isRemote: true });
  t.match(sc(['traceparent', `00-${TID}-${SID}-00`]), { traceFlags: 0 });
  t.match(sc(['b3', `${TID}-${SID}-1`]), { traceId: TID, spanId: SID, traceFlags: 1 });
  t.match(sc(['x-b3-traceid', 'a3ce929d0e0e4736', 'x-b3-spanid', SID, 'x-b3-sampled', '1']), { traceId: `0000000000000000a3ce929d0e0e4736`, traceFlags: 1 }, '64-bit B3 ids are padded');
  t.match(sc(['traceparent', 'garbage', 'b3', `${TID}-${SID}-0`]), { traceId: TID, traceFlags: 0 }, 'a bad traceparent falls back to B3');
  for (const bad of [[], ['traceparent', `00-${'0'.repeat(32)}-${SID}-01`], ['b3', 'xyz-abc-1'], ['traceparent', `01-${TID}-${SID}-01x`]])
    t.equal(sc(bad), undefined, JSON.stringify(bad));
  t.equal(extract(['tracestate', 'vendor=x']).tracestate, 'vendor=x');
});

t.test('inject replaces trace headers, keeps tracestate and the rest', async (t) => {
  const out = inject(['host', 'a', 'b3', 'x', 'x-b3-sampled', '1', 'traceparent', 'old', 'x-keep', '1'], { traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED }, 'v=1');
  t.same(out, ['host', 'a', 'x-keep', '1', 'traceparent', `00-${TID}-${SID}-01`, 'tracestate', 'v=1']);
});

t.test('parent-based sampling with a ratio for new traces', async (t) => {
  const got: MeshSpan[] = [];
  const sink = { add: (s: MeshSpan) => got.push(s) };
  let r = 0.5;
  const tracer = new MeshTracer(0.01, sink, () => r);
  tracer.startSpan('new, 0.5 ≥ 1%').end();
  t.equal(got.length, 0, 'not sampled');
  r = 0.001;
  tracer.startSpan('new, 0.1% < 1%').end();
  t.equal(got.length, 1, 'sampled');
  r = 0.99;
  const parent = extract(['traceparent', `00-${TID}-${SID}-01`]).ctx;
  const child = tracer.startSpan('child', { kind: SpanKind.CLIENT }, parent);
  t.equal(child.spanContext().traceId, TID);
  t.not(child.spanContext().spanId, SID);
  child.end();
  t.equal(got.length, 2, "a sampled parent's child is sampled whatever the ratio");
  t.equal(got[1].parentSpanId, SID);
  const unsampled = tracer.startSpan('c', {}, extract(['traceparent', `00-${TID}-${SID}-00`]).ctx);
  t.notOk(unsampled.isRecording());
  unsampled.end();
  t.equal(got.length, 2);
});

t.test('OTLP/HTTP JSON export and a hop span', async (t) => {
  const bodies: any[] = [];
  const srv = createServer((q, s) => { let b = ''; q.on('data', (d) => (b += d)); q.on('end', () => { bodies.push(JSON.parse(b)); s.end('{}'); }); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  const exp = new OtlpHttpExporter(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1/traces`, 'client.foo');
  const tracer = new MeshTracer(1, exp);
  const head = parseRequestHead(Buffer.from(`GET /x?y=1 HTTP/1.1\r\nHost: reviews\r\ntraceparent: 00-${TID}-${SID}-01\r\n\r\n`), 0);
  if (head.kind !== 'ok') throw new Error('parse');
  const hop = startHop({ tracer, exporter: exp }, head.head, SpanKind.CLIENT);
  const tp = hop.head.headers[hop.head.headers.indexOf('traceparent') + 1];
  t.match(tp, new RegExp(`^00-${TID}-[0-9a-f]{16}-01$`), 'the forwarded head carries the hop as parent');
  endHop(hop.span, 'reviews.foo.svc.cluster.local:80/*', { method: 'GET', url: '/x?y=1', status: 503, flags: 'URX', cluster: 'outbound|80||reviews.foo.svc.cluster.local' });
  await exp.close();
  t.equal(exp.stats.exported, 1);
  const rs = bodies[0].resourceSpans[0];
  t.same(rs.resource.attributes, [{ key: 'service.name', value: { stringValue: 'client.foo' } }]);
  const s = rs.scopeSpans[0].spans[0];
  t.match(s, { traceId: TID, parentSpanId: SID, name: 'reviews.foo.svc.cluster.local:80/*', kind: 3, status: { code: 2 } });
  t.match(s.startTimeUnixNano, /^\d{19}$/, 'nanoseconds since the epoch');
  t.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
  t.same(s.attributes.find((a: any) => a.key === 'http.status_code'), { key: 'http.status_code', value: { intValue: '503' } });
  t.same(s.attributes.find((a: any) => a.key === 'response_flags'), { key: 'response_flags', value: { stringValue: 'URX' } });
});

t.test('access log entry and x-request-id', async (t) => {
  const p = parseRequestHead(Buffer.from('POST /a HTTP/1.1\r\nHost: svc\r\nUser-Agent: ua\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n'), 0);
  if (p.kind !== 'ok') throw new Error('parse');
  const head = withRequestId(p.head);
  const id = head.headers[head.headers.indexOf('x-request-id') + 1];
  t.match(id, /^[0-9a-f-]{36}$/);
  t.equal(withRequestId(head), head, 'kept when present');
  const e = entryOf(head, performance.now() - 12, 'source', '10.0.0.1', {
    end: { status: 200, flags: '-', attempts: 2, upstream: '10.0.0.9:8080', upstreamMs: 3.4, bytesReceived: 5, bytesSent: 100 }, cluster: 'outbound|80||svc', route: 'r',
  });
  t.match(e, { method: 'POST', path: '/a', protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', bytes_received: 5, bytes_sent: 100, upstream_service_time: 3,
    upstream_host: '10.0.0.9:8080', upstream_cluster: 'outbound|80||svc', upstream_request_attempt_count: 2, x_forwarded_for: '1.2.3.4', user_agent: 'ua', request_id: id,
    authority: 'svc', route_name: 'r', downstream_remote_address: '10.0.0.1', reporter: 'source' });
  t.ok(e.duration >= 12, 'duration from the start');
  t.ok(!Number.isNaN(Date.parse(e.start_time)), 'start_time ISO');
});

t.test('sidecar settings: access log and tracing, bad values reported', async (t) => {
  const { parseSidecarFlags } = await import('../../sidecar/flags.js');
  const env = { POD_NAME: 'p', POD_NAMESPACE: 'ns', INSTANCE_IP: '10.0.0.1' };
  const ok = parseSidecarFlags([], { ...env, SHOAL_ACCESS_LOG_FILE: '/dev/stdout', SHOAL_TRACING_ENDPOINT: 'http://c:4318/v1/traces', SHOAL_TRACING_SAMPLING: '2.5' });
  t.match(ok.settings, { accessLogFile: '/dev/stdout', tracingEndpoint: 'http://c:4318/v1/traces', tracingSampling: 2.5 });
  t.match(parseSidecarFlags([], env).settings, { accessLogFile: '', tracingEndpoint: '', tracingSampling: 1 }, 'defaults: off, 1%');
  const bad = parseSidecarFlags(['--tracing-sampling', '150', '--tracing-endpoint', 'collector:4318'], env);
  t.match(bad.problems.join('\n'), /SHOAL_TRACING_SAMPLING: must be a percentage between 0 and 100, got "150"/);
  t.match(bad.problems.join('\n'), /SHOAL_TRACING_ENDPOINT: must be an http\(s\) URL/);
});

t.test('shoal top numbers: rps, success rate, p50/p99 from two scrapes', async (t) => {
  const { topRows, quantile } = await import('../../proxy/telemetry/top.js');
  const { formatTop } = await import('../../cli/commands/top.js');
  const L = (rep: string, svc: string, ver: string, code: string) => `reporter="${rep}",destination_service="${svc}",destination_version="${ver}",response_code="${code}"`;
  const scrape = (n200: number, n503: number, fast: number, slow: number) => [
    `istio_requests_total{${L('destination', 'reviews.default.svc.cluster.local', 'v1', '200')}} ${n200}`,
    `istio_requests_total{${L('destination', 'reviews.default.svc.cluster.local', 'v1', '503')}} ${n503}`,
    `istio_requests_total{${L('source', 'reviews.default.svc.cluster.local', 'v1', '200')}} ${n200 * 10}`,
    `istio_request_duration_milliseconds_bucket{${L('destination', 'reviews.default.svc.cluster.local', 'v1', '200')},le="10"} ${fast}`,
    `istio_request_duration_milliseconds_bucket{${L('destination', 'reviews.default.svc.cluster.local', 'v1', '200')},le="100"} ${fast + slow}`,
    `istio_request_duration_milliseconds_bucket{${L('destination', 'reviews.default.svc.cluster.local', 'v1', '200')},le="+Inf"} ${fast + slow}`,
    `istio_requests_total{${L('source', 'ratings.default.svc.cluster.local', 'v2', '200')}} ${n200}`,
  ].join('\n');
  const rows = topRows([scrape(100, 0, 100, 0)], [scrape(280, 20, 280, 20)], 10);
  t.equal(rows.length, 2);
  t.match(rows[1], { service: 'reviews.default.svc.cluster.local', version: 'v1', rps: 20, successRate: 0.9, reporter: 'destination' }, 'destination side preferred: 200 requests in 10 s, 20 of them 503');
  t.ok(rows[1].p50 > 0 && rows[1].p50 <= 10, `p50 in the first bucket: ${rows[1].p50}`);
  t.ok(rows[1].p99 > 10 && rows[1].p99 <= 100, `p99 in the second: ${rows[1].p99}`);
  t.match(rows[0], { service: 'ratings.default.svc.cluster.local', version: 'v2', rps: 18, reporter: 'source' }, 'only the source side: used');
  t.equal(quantile(0.5, new Map([[10, 0], [20, 10], [Infinity, 10]])), 15, "histogram_quantile's interpolation");
  t.match(formatTop(rows), /reviews\.default\.svc\.cluster\.local\s+v1\s+20\.0\s+90\.0%/);
});
