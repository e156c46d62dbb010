// The Bookinfo apps (node/images/bookinfo.mjs) on loopback, no root: the four services wired by upstream's
// <NAME>_HOSTNAME/_SERVICE_PORT variables; the page with details and reviews, stars by reviews version,
// trace headers carried to ratings, the error texts when a service is gone, /health, bad argument.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../wait.js';

const app = join(new URL('../../..', import.meta.url).pathname, 'node', 'images', 'bookinfo.mjs');
const freePort = (): Promise<number> => new Promise((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => res(p));
  });
});

t.test('the four services on loopback', async (t) => {
  const ports = { productpage: await freePort(), details: await freePort(), reviews: await freePort(), ratings: await freePort() };
  const env = { ...process.env, DETAILS_HOSTNAME: '127.0.0.1', REVIEWS_HOSTNAME: '127.0.0.1', RATINGS_HOSTNAME: '127.0.0.1', DETAILS_SERVICE_PORT: String(ports.details), REVIEWS_SERVICE_PORT: String(ports.reviews), RATINGS_SERVICE_PORT: String(ports.ratings) };
  const procs: Record<string, ChildProcess> = {};
  const logs: Record<string, string> = {};
  const start = (svc: keyof typeof ports, tag?: string) => {
    const p = spawn(process.execPath, [app, svc], { env: { ...env, PORT: String(ports[svc]), SHOAL_IMAGE_TAG: tag ?? '' }, stdio: ['ignore', 'pipe', 'inherit'] });
    logs[svc] = '';
    p.stdout!.on('data', (d) => (logs[svc] += d));
    procs[svc] = p;
  };
  t.teardown(() => { for (const p of Object.values(procs)) p.kill(); });
  const get = async (svc: keyof typeof ports, path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`http://127.0.0.1:${ports[svc]}${path}`, { headers });
    return { status: r.status, text: await r.text() };
  };
  for (const s of ['details', 'ratings', 'productpage'] as const) start(s);
  start('reviews', 'v2');
  await waitFor('all four listening', async () => Object.keys(ports).every((s) => logs[s]!.includes('listening')), 20_000);

  t.same(JSON.parse((await get('ratings', '/ratings/0')).text), { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } }, 'ratings');
  t.equal(JSON.parse((await get('details', '/details/0')).text).author, 'William Shakespeare', 'details');
  t.same(JSON.parse((await get('details', '/health')).text), { status: 'Details is healthy' }, '/health');
  t.equal((await get('details', '/details/x')).status, 404, 'a non-numeric id is a 404');

  const page = await get('productpage', '/productpage', { 'x-request-id': 'unit-1', b3: '80f198ee56343ba8-e457b5a2e4d86bd1-1' });
  t.equal(page.status, 200);
  t.match(page.text, /Book Details.*William Shakespeare/s, 'the page shows details');
  t.same([...page.text.matchAll(/data-stars="(\d)" data-color="(\w+)"/g)].map((m) => `${m[1]}${m[2]}`), ['5black', '4black'], 'v2: black stars from ratings');
  t.match(logs.ratings, /"GET \/ratings\/0" 200 \d+ms x-request-id=unit-1 traceparent=00-[0-9a-f]{32}-[0-9a-f]{16}-01/, 'x-request-id and the traceparent productpage started reached ratings');
  t.match(JSON.parse((await get('productpage', '/api/v1/products/0')).text), { id: 0, title: 'The Comedy of Errors' }, '/api/v1/products/0');

  procs.ratings!.kill();
  await new Promise((r) => procs.ratings!.once('exit', r));
  t.match((await get('productpage', '/productpage')).text, 'Ratings service is currently unavailable', 'ratings gone: reviews says so');
  procs.details!.kill();
  await new Promise((r) => procs.details!.once('exit', r));
  t.match((await get('productpage', '/productpage')).text, 'Sorry, product details are currently unavailable for this book.', 'details gone: the page says so');

  const bad = spawnSync(process.execPath, [app, 'nope'], { encoding: 'utf8' });
  t.equal(bad.status, 64, 'an unknown service exits 64');
  t.match(bad.stderr, /productpage, details, reviews, ratings/, 'naming the choices');
});
