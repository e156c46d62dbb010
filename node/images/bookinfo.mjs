// shoal/bookinfo-* — the four services of the Bookinfo sample (after Istio's samples/bookinfo), one file,
// the service named by the first argument: productpage | details | reviews | ratings. All listen on $PORT
// (9080), answer `/health`, log one line per request (but /health) with its x-request-id, and copy the trace headers
// upstream Bookinfo propagates from each incoming request onto the calls it makes. reviews' version is the
// image tag ($SHOAL_IMAGE_TAG: v1 no stars, v2 black stars, v3 red stars; v2/v3 call ratings).
// Plain JavaScript (no build step) so a pod starts in tens of milliseconds.
import { createServer, get as httpGet } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

const service = process.argv[2];
const services = ['productpage', 'details', 'reviews', 'ratings'];
if (!services.includes(service)) {
  console.error(`bookinfo: the first argument must be one of ${services.join(', ')} (got ${JSON.stringify(service)})`);
  process.exit(64);
}
const version = process.env.SHOAL_IMAGE_TAG && process.env.SHOAL_IMAGE_TAG !== 'latest' ? process.env.SHOAL_IMAGE_TAG : 'v1';
const port = Number(process.env.PORT || 9080);
const domain = process.env.SERVICES_DOMAIN ? `.${process.env.SERVICES_DOMAIN}` : '';
const upstream = (name) => `http://${process.env[`${name.toUpperCase()}_HOSTNAME`] || name}${domain}:${process.env[`${name.toUpperCase()}_SERVICE_PORT`] || 9080}`;

// upstream productpage.py's headers_to_propagate (tracing: W3C, B3, OpenTracing, Datadog, Cloud Trace,
// SkyWalking; and the request id, user agent and end-user identity Istio routes on)
const PROPAGATE = ['x-request-id', 'traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid',
  'x-b3-sampled', 'x-b3-flags', 'b3', 'x-ot-span-context', 'x-datadog-trace-id', 'x-datadog-parent-id',
  'x-datadog-sampling-priority', 'x-cloud-trace-context', 'grpc-trace-bin', 'sw8', 'user-agent', 'cookie', 'authorization', 'end-user'];

function propagated(req) {
  const out = {};
  for (const h of PROPAGATE) if (typeof req.headers[h] === 'string') out[h] = req.headers[h];
  // the front door starts a trace when the request has none (what the ingress/sidecar does in Istio)
  if (service === 'productpage') {
    out['x-request-id'] ??= randomUUID();
    out.traceparent ??= `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
  }
  return out;
}

/** GET a JSON document from another service; {ok:false, status, error} instead of throwing. A new
 *  connection per call, as upstream's `requests.get` does: the layer 4 mesh balances per connection, so a
 *  kept-alive connection would pin every call to one backend. */
function getJSON(url, headers, timeoutMs) {
  return new Promise((resolve) => {
    const fail = (status, error) => resolve({ ok: false, status, error: `${url}: ${error}` });
    const req = httpGet(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('error', (e) => fail(503, e.code ?? e.message));
      res.on('end', () => {
        if (res.statusCode !== 200) return fail(res.statusCode ?? 503, `answered ${res.statusCode}`);
        try {
          resolve({ ok: true, status: 200, body: JSON.parse(body) });
        } catch {
          fail(503, 'not JSON');
        }
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => fail(503, e.code ?? e.message));
  });
}

// ---- the data (upstream's book 0) ----
const PRODUCT = { id: 0, title: 'The Comedy of Errors', descriptionHtml: '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.' };
const DETAILS = { author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA', language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890' };
const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
];
const RATINGS = { Reviewer1: 5, Reviewer2: 4 };

const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

async function details(req, res, path) {
  const m = /^\/details\/(\d+)$/.exec(path);
  if (!m) return json(res, 404, { error: 'please provide numeric product id' });
  json(res, 200, { id: Number(m[1]), ...DETAILS });
}

async function ratings(req, res, path) {
  const m = /^\/ratings\/(\d+)$/.exec(path);
  if (!m) return json(res, 404, { error: 'please provide numeric product ID' });
  json(res, 200, { id: Number(m[1]), ratings: RATINGS });
}

async function reviews(req, res, path) {
  const m = /^\/reviews\/(\d+)$/.exec(path);
  if (!m) return json(res, 404, { error: 'please provide numeric product ID' });
  const id = m[1];
  const body = { id, podname: hostname(), clustername: 'null', version, reviews: REVIEWS.map((r) => ({ ...r })) };
  if (version !== 'v1') {
    const color = version === 'v3' ? 'red' : 'black';
    const r = await getJSON(`${upstream('ratings')}/ratings/${id}`, propagated(req), 2500);
    for (const review of body.reviews) {
      review.rating = r.ok ? { stars: r.body.ratings[review.reviewer], color } : { error: 'Ratings service is currently unavailable' };
    }
  }
  json(res, 200, body);
}

function stars(rating) {
  if (!rating) return '';
  if (rating.error) return `<p class="ratings-error"><i>${esc(rating.error)}</i></p>`;
  const full = '&#9733;'.repeat(rating.stars), empty = '&#9734;'.repeat(5 - rating.stars);
  return `<p class="stars" style="color:${rating.color === 'red' ? 'red' : 'black'}" data-stars="${rating.stars}" data-color="${rating.color}">${full}${empty}</p>`;
}

function page(d, r) {
  const det = d.ok
    ? `<h4 class="details">Book Details</h4><dl>${Object.entries(d.body).filter(([k]) => k !== 'id').map(([k, v]) => `<dt>${esc(k)}:</dt><dd>${esc(v)}</dd>`).join('')}</dl>`
    : '<h4 class="details-error"><i>Sorry, product details are currently unavailable for this book.</i></h4>';
  const rev = r.ok
    ? `<h4 class="reviews">Book Reviews</h4>${r.body.reviews.map((x) => `<blockquote><p>${esc(x.text)}</p><small>${esc(x.reviewer)}</small>${stars(x.rating)}</blockquote>`).join('')}<dl><dt>Reviews served by:</dt><dd><u>${esc(r.body.podname)}</u> (${esc(r.body.version)})</dd></dl>`
    : '<h4 class="reviews-error"><i>Sorry, product reviews are currently unavailable for this book.</i></h4>';
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Simple Bookstore App</title></head>
<body>
<nav><a href="/productpage">BookInfo Sample</a></nav>
<h3>${esc(PRODUCT.title)}</h3>
<p>Summary: ${PRODUCT.descriptionHtml}</p>
<div class="col-details">${det}</div>
<div class="col-reviews">${rev}</div>
</body></html>
`;
}

async function productpage(req, res, path) {
  const headers = propagated(req);
  if (path === '/' || path === '/index.html') {
    return res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><head><title>Simple Bookstore App</title></head><body><h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3><p><a href="/productpage?u=normal">Normal user</a></p></body></html>\n');
  }
  if (path === '/productpage') {
    const [d, r] = await Promise.all([getJSON(`${upstream('details')}/details/0`, headers, 3000), getJSON(`${upstream('reviews')}/reviews/0`, headers, 3000)]);
    res.setHeader('x-request-id', headers['x-request-id']);
    return res.writeHead(200, { 'content-type': 'text/html' }).end(page(d, r));
  }
  if (path === '/api/v1/products') return json(res, 200, [{ id: PRODUCT.id, title: PRODUCT.title, descriptionHtml: PRODUCT.descriptionHtml }]);
  let m = /^\/api\/v1\/products\/(\d+)$/.exec(path);
  if (m) return json(res, 200, { id: Number(m[1]), title: PRODUCT.title, descriptionHtml: PRODUCT.descriptionHtml });
  m = /^\/api\/v1\/products\/(\d+)\/(reviews|ratings)$/.exec(path);
  if (m) {
    const r = await getJSON(`${upstream('reviews')}/reviews/${m[1]}`, headers, 3000);
    if (!r.ok) return json(res, r.status, { error: 'Sorry, product reviews are currently unavailable for this book.' });
    if (m[2] === 'reviews') return json(res, 200, r.body);
    return json(res, 200, { id: Number(m[1]), ratings: Object.fromEntries(r.body.reviews.filter((x) => x.rating?.stars).map((x) => [x.reviewer, x.rating.stars])) });
  }
  json(res, 404, { error: `no route for ${path}` });
}

const handlers = { productpage, details, reviews, ratings };
const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const t0 = Date.now();
  if (path !== '/health') res.on('finish', () => console.log(`${new Date().toISOString()} ${service}-${version} "${req.method} ${req.url}" ${res.statusCode} ${Date.now() - t0}ms x-request-id=${req.headers['x-request-id'] ?? res.getHeader('x-request-id') ?? '-'} traceparent=${req.headers.traceparent ?? '-'}`));
  if (path === '/health') return json(res, 200, { status: `${service.charAt(0).toUpperCase()}${service.slice(1)} is healthy` });
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
  handlers[service](req, res, path).catch((e) => {
    if (!res.headersSent) json(res, 500, { error: String(e?.message ?? e) });
  });
});
server.listen(port, () => console.log(`bookinfo ${service} ${version} listening on :${port}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
});
