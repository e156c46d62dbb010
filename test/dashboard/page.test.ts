// The dashboard page in real headless Chromium, against the real dashboard server and scrape loop, fed by
// the sidecars' own metrics code (proxy/admin/metrics.ts registries, one per Bookinfo pod, served as the
// text a sidecar's :15090 serves) and a fake API (pods, VirtualService, policies, /certs). No root, ~10 s.
// Checks: the page draws Bookinfo's edges with rates, shares and the mTLS lock; the traffic moving from
// 90/10 v1/v2 to v3 shows up without a reload; a click on a workload opens its routes, policies and
// certificate. The real-cluster version is bookinfo.e2e.test.ts.
import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { ProxyMetrics, type RequestLabels } from '../../proxy/admin/metrics.js';
import { runDashboard } from '../../dashboard/run.js';
import { parseDashboardFlags } from '../../dashboard/flags.js';
import { chromiumSkip, openBrowser, READ_GRAPH } from './chromium.js';
import { waitFor } from '../wait.js';

const NS = 'bookinfo';
const WORKLOADS = ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1'];
const app = (w: string) => w.replace(/-v\d$/, '');
const version = (w: string) => w.slice(w.lastIndexOf('-') + 1);
const ip = (i: number) => `10.99.0.${i + 10}`;

function pod(w: string, i: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${w}-5d8f7c-${i}abcd`, namespace: NS, labels: { app: app(w), version: version(w), 'pod-template-hash': '5d8f7c' } },
    spec: { initContainers: [{ name: 'istio-init' }, { name: 'istio-proxy' }], containers: [{ name: app(w) }] },
    status: { phase: 'Running', podIP: ip(i) },
  } as any;
}

function labels(src: string, dst: string, reporter: 'source' | 'destination', code = 200): RequestLabels {
  const side = (w: string, p: 'source' | 'destination') => ({
    [`${p}_workload`]: w, [`${p}_workload_namespace`]: NS, [`${p}_principal`]: `spiffe://cluster.local/ns/${NS}/sa/bookinfo-${app(w)}`,
    [`${p}_canonical_service`]: app(w), [`${p}_canonical_revision`]: version(w), [`${p}_app`]: app(w), [`${p}_version`]: version(w),
  });
  return {
    reporter, ...side(src, 'source'), ...side(dst, 'destination'), destination_service: `${app(dst)}.${NS}.svc.cluster.local`,
    connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown', request_protocol: 'http', response_code: String(code), response_flags: '-', grpc_response_status: '',
  } as RequestLabels;
}

t.test('the dashboard page in headless Chromium', { skip: chromiumSkip, timeout: 90_000 }, async (t) => {
  const sidecars = new Map(WORKLOADS.map((w) => [w, new ProxyMetrics()]));
  const call = (src: string, dst: string, ms: number) => {
    sidecars.get(src)!.request(labels(src, dst, 'source'), ms);
    sidecars.get(dst)!.request(labels(src, dst, 'destination'), ms);
  };
  // Bookinfo's traffic at 20 pages/s, reviews split by `weights`
  let weights: Record<string, number> = { 'reviews-v1': 90, 'reviews-v2': 10, 'reviews-v3': 0 };
  let n = 0;
  const traffic = setInterval(() => {
    for (let k = 0; k < 2; k++) {
      n++;
      call('productpage-v1', 'details-v1', 2);
      const r = (n * 37) % 100; // a deterministic spread over 0..99
      let acc = 0;
      const to = Object.entries(weights).find(([, w]) => (acc += w) > r)![0];
      call('productpage-v1', to, to === 'reviews-v1' ? 3 : 40);
      if (to !== 'reviews-v1') call(to, 'ratings-v1', 1);
    }
  }, 100);
  t.teardown(() => clearInterval(traffic));

  const byIp = new Map(WORKLOADS.map((w, i) => [ip(i), sidecars.get(w)!]));
  const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: NS }, spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 10 }] }] } };
  const objects: Record<string, any[]> = {
    services: WORKLOADS.filter((w) => w.endsWith('v1')).map((w) => ({ metadata: { name: app(w), namespace: NS }, spec: { selector: { app: app(w) } } })),
    virtualservices: [vs],
    destinationrules: [{ metadata: { name: 'reviews', namespace: NS }, spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } }],
    peerauthentications: [{ metadata: { name: 'default', namespace: NS }, spec: { mtls: { mode: 'STRICT' } } }],
    authorizationpolicies: [{ metadata: { name: 'ratings-from-reviews', namespace: NS }, spec: { selector: { matchLabels: { app: 'ratings' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/bookinfo-reviews'] } }] }] } }],
  };
  const { config } = parseDashboardFlags(['--port', '0', '--scrape-interval', '300ms', '--window', '3s']);
  const d = await runDashboard(config!, {
    sources: {
      listPods: async () => WORKLOADS.map(pod),
      fetchText: async (url) => {
        const m = byIp.get(new URL(url).hostname);
        if (!m) throw new Error(`${url}: ECONNREFUSED`);
        return m.registry.metrics();
      },
    },
    details: {
      list: async (kind, ns) => (objects[kind] ?? []).filter((o) => !ns || o.metadata.namespace === ns),
      certs: async (addr) => ({ certificates: [{ identity: `spiffe://cluster.local/ns/${NS}/sa/bookinfo-${app(WORKLOADS[Number(addr.split('.')[3]) - 10]!)}`, serial_number: '0a1b', valid_from: '2026-12-06T00:00:00.000Z', expiration_time: '2026-12-07T00:00:00.000Z', days_until_expiration: 0 }] }),
    },
  });
  t.teardown(() => d.stop());
  const page = await openBrowser();
  t.teardown(() => page.close());
  await page.goto(d.url);
  await page.eval('window.__marker = "same page"');

  type Shown = { updates: number; nodes: string[]; edges: { source: string; target: string; rps: string; share: string; success: string; mtls: string; text: string; lock: boolean }[]; splits: string[]; marker: string | null };
  const edge = (g: Shown, to: string, from = 'productpage-v1') => g.edges.find((e) => e.source === `${NS}/${from}` && e.target === `${NS}/${to}`);
  const first = await waitFor('the Bookinfo edges with rates in the page', async () => {
    const g = await page.eval<Shown>(READ_GRAPH);
    const v1 = edge(g, 'reviews-v1'), v2 = edge(g, 'reviews-v2'), det = edge(g, 'details-v1'), rat = edge(g, 'ratings-v1', 'reviews-v2');
    return v1?.rps && v2?.rps && det?.rps && rat?.rps && Number(v1.share) > 0.8 ? g : undefined;
  }, 20_000);
  t.same(first.nodes.slice().sort(), WORKLOADS.map((w) => `${NS}/${w}`).sort(), 'a node per workload and version, v3 too (no traffic yet)');
  const v1 = edge(first, 'reviews-v1')!;
  t.ok(Math.abs(Number(v1.share) - 0.9) < 0.08, `productpage → reviews-v1 carries ~90 %: ${v1.share}`);
  t.ok(Math.abs(Number(edge(first, 'reviews-v2')!.share) - 0.1) < 0.08, `and v2 ~10 %: ${edge(first, 'reviews-v2')!.share}`);
  t.ok(Number(edge(first, 'details-v1')!.rps) > 5 && Number(edge(first, 'details-v1')!.rps) < 25, `details: up to 20 rps (timers slow down on a busy machine): ${edge(first, 'details-v1')!.rps}`);
  t.equal(v1.mtls, 'mutual_tls');
  t.match(v1.text, /^[89]\d% · \d+\.\d rps \| ✓ 100% · p99 [\d.]+ ms$/, `the edge's label: ${v1.text}`);
  t.ok(v1.lock, 'with a closed padlock (every request mTLS)');
  t.match(edge(first, 'reviews-v2')!.text, /p99 (3\d|4\d|50) ms/, 'v2 (40 ms requests): p99 in the 25–50 ms bucket');
  t.notOk(edge(first, 'reviews-v3'), 'no edge to v3');
  t.match(first.splits.join('\n'), /v1 [89]\d% · v2 [\d.]+% · v3 0% · success 100%/, `the reviews split: ${first.splits}`);

  // the weights move to v3: the page follows without a reload
  weights = { 'reviews-v1': 0, 'reviews-v2': 0, 'reviews-v3': 100 };
  const moved = await waitFor('reviews-v3 taking the traffic in the page', async () => {
    const g = await page.eval<Shown>(READ_GRAPH);
    return Number(edge(g, 'reviews-v3')?.share) > 0.95 && Number(edge(g, 'reviews-v1')?.share ?? 0) < 0.05 ? g : undefined;
  }, 20_000);
  t.equal(moved.marker, 'same page', 'the same page (no reload)');
  t.ok(moved.updates > first.updates, `redrawn ${moved.updates - first.updates} times from the event stream`);
  t.ok(edge(moved, 'ratings-v1', 'reviews-v3')?.rps, 'reviews-v3 → ratings appeared');
  t.match(moved.splits.join('\n'), /v3 (9\d|100)%/, `the split moved: ${moved.splits}`);

  // a click on reviews-v1: routes, policies, certificate
  await page.eval(`document.querySelector('.node[data-id="${NS}/reviews-v1"]').dispatchEvent(new MouseEvent('click', { bubbles: true }))`);
  const panel = await waitFor('the details panel', async () => {
    const text = await page.eval<string>(`document.getElementById('details').hidden ? '' : document.getElementById('details-body').textContent`);
    return text.includes('Certificate') && !text.includes('loading') ? text : undefined;
  }, 10_000);
  t.match(panel, /VirtualService bookinfo\/reviews.*reviews\/v1 90%, reviews\/v2 10%/, 'the route with its weights');
  t.match(panel, /DestinationRule bookinfo\/reviews.*subsets: v1 \(version=v1\), v2 \(version=v2\)/, 'the subsets');
  t.match(panel, /PeerAuthentication bookinfo\/default: mTLS STRICT/, 'the PeerAuthentication');
  t.notMatch(panel, /ratings-from-reviews/, "ratings' AuthorizationPolicy does not select reviews");
  t.match(panel, /spiffe:\/\/cluster\.local\/ns\/bookinfo\/sa\/bookinfo-reviews/, 'the certificate identity');
});
