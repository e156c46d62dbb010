// The dashboard on a real cluster, seen in real headless Chromium: `shoal up --apply samples/bookinfo`
// (its own home, bridge and pod /24), a load pod in the mesh curling the product page, the dashboard that
// `shoal up` runs scraping the real sidecars (pod IPs on the node's bridge, :15090). Checks: `shoal up`
// prints the dashboard URL, the Bookinfo block and a live reviews line; the page shows Bookinfo's edges
// (load → productpage → details, reviews v1/v2 → ratings) over mTLS; a weight change on the VirtualService
// (all to v3) appears in the page without a reload; the details panel shows the real route, policies and
// the sidecar's certificate; `shoal dashboard` prints the URL. Root only; ~2 min.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, rootSkip, sh, shoalUp } from '../e2e/shoal-up.js';
import { waitFor } from '../wait.js';
import { chromiumSkip, openBrowser, READ_GRAPH } from './chromium.js';

const root = new URL('../../..', import.meta.url).pathname;
const NS = 'bookinfo';
const R = {
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  vs: { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true },
} as const;

type Shown = { updates: number; nodes: string[]; edges: { source: string; target: string; rps: string; share: string; success: string; mtls: string; text: string; lock: boolean }[]; splits: string[]; marker: string | null };

t.test('the dashboard of a Bookinfo cluster in headless Chromium', { skip: rootSkip || chromiumSkip, timeout: 420_000 }, async (t) => {
  const rand = Math.floor(Math.random() * 0xffff);
  const c = await shoalUp('dash', 230 + (rand % 20), ['--apply', join(root, 'samples', 'bookinfo')]);
  t.teardown(() => c.close());
  const port = (JSON.parse(readFileSync(join(c.home, 'run', 'ports.json'), 'utf8')) as Record<string, number>).dashboard!;
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('the Bookinfo block of shoal up', () => c.out().includes('kubectl patch virtualservice'), 10_000).catch(() => undefined);
  t.match(c.out(), `The mesh's dashboard (service graph, routes, policies, certificates): ${url}`, 'shoal up prints the dashboard URL');
  t.match(c.out(), /Bookinfo is running in namespace bookinfo[\s\S]*product page http:\/\/127\.0\.0\.1\/productpage[\s\S]*http:\/\/productpage\.bookinfo:9080\/productpage[\s\S]*kubectl patch virtualservice reviews/, 'and the Bookinfo block');
  const dash = await sh(process.execPath, [cli, '--home', c.home, 'dashboard', '--no-open']);
  t.equal(dash.stdout, `Dashboard: ${url}\n`, `shoal dashboard prints it: ${dash.stdout}${dash.stderr}`);

  // a client in the mesh loading the product page ~10 times a second
  await c.api.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dash-load', labels: { 'istio-injection': 'enabled' } } } as any);
  await c.api.create(R.pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'load', namespace: 'dash-load', labels: { app: 'load' } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'shoal/shell', args: ['while true; do curl -s -o /dev/null --max-time 2 http://productpage.bookinfo:9080/productpage; sleep 0.1; done'] }] },
  } as any, { namespace: 'dash-load' });

  const api = async () => (await (await fetch(`${url}api/graph`)).json()) as { edges: { source: string; target: string; rps: number | null }[] };
  const want = [['dash-load/load', `${NS}/productpage-v1`], [`${NS}/productpage-v1`, `${NS}/details-v1`], [`${NS}/productpage-v1`, `${NS}/reviews-v1`], [`${NS}/productpage-v1`, `${NS}/reviews-v2`], [`${NS}/reviews-v2`, `${NS}/ratings-v1`]];
  try {
    await waitFor('the Bookinfo edges in /api/graph', async () => {
      const g = await api();
      return want.every(([s, d]) => g.edges.some((e) => e.source === s && e.target === d && e.rps)) ? g : undefined;
    }, 240_000, 1000);
  } catch (e) {
    t.fail(`${(e as Error).message}: ${JSON.stringify(await api().catch((x) => String(x)))}`);
    return;
  }

  const page = await openBrowser();
  t.teardown(() => page.close());
  await page.goto(url);
  await page.eval('window.__marker = "same page"');
  const edge = (g: Shown, s: string, d: string) => g.edges.find((e) => e.source === s && e.target === d);
  const shown = await waitFor('the Bookinfo edges in the page', async () => {
    const g = await page.eval<Shown>(READ_GRAPH);
    return want.every(([s, d]) => edge(g, s!, d!)?.rps) ? g : undefined;
  }, 20_000);
  for (const [s, d] of want) t.ok(edge(shown, s!, d!)!.mtls === 'mutual_tls' && edge(shown, s!, d!)!.lock, `${s} → ${d}: drawn, over mTLS (padlock): ${edge(shown, s!, d!)!.text}`);
  t.notOk(edge(shown, `${NS}/productpage-v1`, `${NS}/reviews-v3`)?.rps, 'nothing to reviews-v3 (the VirtualService: 90/10 v1/v2)');
  // productpage's share also counts its calls to details: compare the two reviews edges with each other
  const v1 = Number(edge(shown, `${NS}/productpage-v1`, `${NS}/reviews-v1`)!.share), v2 = Number(edge(shown, `${NS}/productpage-v1`, `${NS}/reviews-v2`)?.share ?? 0);
  t.ok(v1 / (v1 + v2) > 0.75, `reviews-v1 carries most of reviews: ${v1} vs v2 ${v2}`);
  t.ok(shown.nodes.includes(`${NS}/reviews-v3`), 'reviews-v3 is a node all the same');

  // the canary moves: everything to v3
  await c.api.patch(R.vs, 'reviews', { spec: { http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' }, weight: 100 }] }] } }, { type: 'merge', namespace: NS });
  const moved = await waitFor('reviews-v3 taking the traffic in the page', async () => {
    const g = await page.eval<Shown>(READ_GRAPH);
    return Number(edge(g, `${NS}/productpage-v1`, `${NS}/reviews-v3`)?.share) > 0.9 && edge(g, `${NS}/reviews-v3`, `${NS}/ratings-v1`)?.rps ? g : undefined;
  }, 60_000);
  t.equal(moved.marker, 'same page', 'shown without a reload');
  t.ok(moved.updates > shown.updates, `the page was redrawn ${moved.updates - shown.updates} times from the event stream`);
  t.match(moved.splits.join('\n'), /v3 (9\d|100)%/, `the reviews split moved: ${moved.splits}`);
  const fromLoad = (await api()).edges.filter((e) => e.source === 'dash-load/load');
  t.comment(`the load pod's edges now: ${JSON.stringify(fromLoad)}`);
  t.ok(fromLoad.every((e) => e.target === `${NS}/productpage-v1` || !e.rps), 'once Bookinfo is up every request of the load pod reaches productpage (none undelivered)');

  // the details of reviews-v3: the route as it is now, the policies, the real certificate
  await page.eval(`document.querySelector('.node[data-id="${NS}/reviews-v3"]').dispatchEvent(new MouseEvent('click', { bubbles: true }))`);
  const panel = await waitFor('the details panel', async () => {
    const text = await page.eval<string>(`document.getElementById('details').hidden ? '' : document.getElementById('details-body').textContent`);
    return text.includes('Certificate') && !text.includes('loading') ? text : undefined;
  }, 15_000);
  t.match(panel, /VirtualService bookinfo\/reviews.*reviews\/v3 100%/, 'the VirtualService with the new weights');
  t.match(panel, /PeerAuthentication bookinfo\/default: mTLS STRICT/, 'STRICT mTLS');
  t.match(panel, /spiffe:\/\/cluster\.local\/ns\/bookinfo\/sa\/bookinfo-reviews/, "the sidecar's certificate identity (from its admin /certs)");

  // shoal up's live line (periodic on a pipe) reports reviews from the same graph
  const line = await waitFor("shoal up's live line", () => /live {9}reviews {2}v1 \S+ · v2 \S+ · v3 \S+ {3}success \S+ {3}[\d.]+ rps/.exec(c.out())?.[0], 45_000, 500)
    .catch((e) => `FAILED ${(e as Error).message}\n${c.out().slice(-1500)}`);
  t.match(line, /^live/, `shoal up: ${line}`);
});
