// A real kubectl against the API server: VirtualService and DestinationRule bad input (issue 14) is a 422
// Invalid naming each field path once (`spec.http[0].route: Invalid value: …`, not `spec.x: spec.x: …`),
// nothing of a rejected object is stored, and a good one is accepted.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { tlsCluster, type TlsCluster } from './tls-harness.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

const vs = (http: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
${http}`;

const goodRoute = `  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 10
`;

const dr = (policy: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
${policy}
  subsets:
  - {name: v1, labels: {version: v1}}
`;

t.test('kubectl apply: layer-7 bad input is 422 with the field path', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  let c: TlsCluster;
  t.before(async () => {
    c = await tlsCluster();
  });
  t.teardown(async () => c?.close());

  const bad: [string, string, RegExp][] = [
    ['weights not summing to 100', vs(goodRoute.replace('weight: 10', 'weight: 20')), /spec\.http\[0\]\.route: Invalid value: 110: total destination weight 110 != 100/],
    ['lookahead regex (not RE2)', vs(`  - match:\n    - uri: {regex: "/a(?=b)"}\n${goodRoute.replace('  - route', '    route')}`), /spec\.http\[0\]\.match\[0\]\.uri\.regex: Invalid value: "\/a\(\?=b\)": invalid regex: lookahead is not supported by RE2/],
    ['bad header regex', vs(`  - match:\n    - headers: {end-user: {regex: "(unclosed"}}\n${goodRoute.replace('  - route', '    route')}`), /spec\.http\[0\]\.match\[0\]\.headers\[end-user\]\.regex: Invalid value: "\(unclosed": invalid regex/],
    ['two kinds in one header match', vs(`  - match:\n    - headers: {end-user: {exact: jason, prefix: j}}\n${goodRoute.replace('  - route', '    route')}`), /spec\.http\[0\]\.match\[0\]\.headers\[end-user\]: Invalid value: "exact,prefix": only one of exact, prefix or regex may be set/],
    ['header in headers and withoutHeaders', vs(`  - match:\n    - headers: {end-user: {exact: jason}}\n      withoutHeaders: {end-user: {}}\n${goodRoute.replace('  - route', '    route')}`), /spec\.http\[0\]\.match\[0\]\.withoutHeaders\[end-user\]: Invalid value: "end-user": header is also in headers/],
    ['rewrite uri and uriRegexRewrite', vs(`  - rewrite: {uri: /x, uriRegexRewrite: {match: "^/a", rewrite: /b}}\n${goodRoute.replace('  - route', '    route')}`), /spec\.http\[0\]\.rewrite: Invalid value: "uri,uriRegexRewrite": uri and uriRegexRewrite may not both be set/],
    ['bad timeout duration', vs(`  - timeout: 10 seconds\n${goodRoute.replace('  - route', '    route')}`), /spec\.http\[0\]\.timeout: Invalid value: "10 seconds": must be a duration/],
    ['bad cookie ttl (DestinationRule)', dr('    loadBalancer:\n      consistentHash:\n        httpCookie: {name: user, ttl: 1day}'), /spec\.trafficPolicy\.loadBalancer\.consistentHash\.httpCookie\.ttl: Invalid value: "1day": must be a duration/],
    ['two hash keys (DestinationRule)', dr('    loadBalancer:\n      consistentHash: {httpHeaderName: x-user, useSourceIp: true}'), /spec\.trafficPolicy\.loadBalancer\.consistentHash: Invalid value: "httpHeaderName,useSourceIp": exactly one of/],
    ['bad idleTimeout (DestinationRule)', dr('    connectionPool:\n      tcp: {idleTimeout: soon}'), /spec\.trafficPolicy\.connectionPool\.tcp\.idleTimeout: Invalid value: "soon"/],
  ];
  for (const [what, text, want] of bad) {
    t.test(what, async (t) => {
      const r = await c.kubectl(['apply', '-f', '-'], text);
      t.not(r.code, 0, 'rejected');
      t.match(r.stderr, /is invalid/, r.stderr);
      t.match(r.stderr, want, r.stderr.trim());
      t.notMatch(r.stderr, /(spec\.[^\s:]+): \1:/, 'the field path is printed once');
    });
  }

  t.test('nothing of the rejected objects was stored; good ones are accepted (an unknown subset too: that is for analyze)', async (t) => {
    t.match((await c.kubectl(['get', 'virtualservice', 'reviews'])).stderr, /NotFound/);
    t.match((await c.kubectl(['get', 'destinationrule', 'reviews'])).stderr, /NotFound/);
    const ok = await c.kubectl(['apply', '-f', '-'], vs(goodRoute.replace('subset: v2', 'subset: v3')));
    t.equal(ok.code, 0, ok.stderr);
    t.match(ok.stdout, /virtualservice.networking.istio.io\/reviews created/);
    const okDr = await c.kubectl(['apply', '-f', '-'], dr('    loadBalancer:\n      consistentHash:\n        httpCookie: {name: user, ttl: 10s}'));
    t.equal(okDr.code, 0, okDr.stderr);
  });

  t.test('every kind: a core object names its field once too', async (t) => {
    const r = await c.kubectl(['create', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n  - port: 70000\n');
    t.not(r.code, 0);
    t.match(r.stderr, /spec\.ports\[0\]\.port: Invalid value: 70000/);
    t.notMatch(r.stderr, /(spec\.[^\s:]+): \1:/, r.stderr.trim());
  });
});
