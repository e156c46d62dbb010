// api/kinds/istio/networking-l7.ts: the layer-7 bad-input checks networking.ts lacks, each with its field
// path (bad regex, conflicting match and rewrite fields, durations, consistentHash, unknown subsets), and
// that the existing checks (weights, "exactly one" on uri) stay where they are — rows that are valid give
// no error.
import t from 'tap';
import { formatFieldError } from '../../api/field.js';
import { re2Problem, unknownSubsets, validateDestinationRuleL7, validateVirtualServiceL7 } from '../../api/kinds/istio/networking-l7.js';
import { virtualService, destinationRule } from '../../api/kinds/istio/networking.js';

const vs = (http: any[], ns = 'default') => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: ns }, spec: { hosts: ['reviews'], http } });
const dr = (spec: any, ns = 'default') => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'r', namespace: ns }, spec: { host: 'reviews', ...spec } });
const route = [{ destination: { host: 'reviews' } }];
const fmt = (es: any[]) => es.map(formatFieldError);

t.test('VirtualService: rows → errors with paths', async (t) => {
  const rows: [string, any[], RegExp[]][] = [
    ['valid', [{ match: [{ uri: { regex: '/a/[0-9]+' }, headers: { 'end-user': { exact: 'jason' }, 'x-any': {} } }], route }], []],
    ['uri regex lookahead', [{ match: [{ uri: { regex: '(?=a)' } }], route }], [/^spec\.http\[0\]\.match\[0\]\.uri\.regex: Invalid value: "\(\?=a\)": invalid regex: lookahead is not supported by RE2$/]],
    ['header regex syntax', [{ match: [{ headers: { 'x-a': { regex: '[a-' } } }], route }], [/^spec\.http\[0\]\.match\[0\]\.headers\[x-a\]\.regex: Invalid value: "\[a-": invalid regex/]],
    ['query param two kinds', [{ match: [{ queryParams: { q: { exact: 'a', prefix: 'b' } } }], route }], [/^spec\.http\[0\]\.match\[0\]\.queryParams\[q\]: Invalid value: "exact,prefix": only one of exact, prefix or regex/]],
    ['withoutHeaders backreference', [{ match: [{ withoutHeaders: { 'x-b': { regex: '(a)\\1' } } }], route }], [/withoutHeaders\[x-b\]\.regex: .*backreferences/]],
    ['header in headers and withoutHeaders', [{ match: [{ headers: { 'x-c': { exact: '1' } }, withoutHeaders: { 'x-c': {} } }], route }], [/^spec\.http\[0\]\.match\[0\]\.withoutHeaders\[x-c\]: .*can never hold/]],
    ['rewrite uri + uriRegexRewrite', [{ rewrite: { uri: '/a', uriRegexRewrite: { match: '(', rewrite: '' } }, route }], [/^spec\.http\[0\]\.rewrite: .*uri and uriRegexRewrite may not both be set/, /^spec\.http\[0\]\.rewrite\.uriRegexRewrite\.match: .*invalid regex/]],
    ['redirect port + derivePort', [{ redirect: { port: 8080, derivePort: 'FROM_REQUEST_PORT' } }], [/^spec\.http\[0\]\.redirect\.derivePort: .*port and derivePort may not both be set/]],
    ['cors maxAge duration', [{ corsPolicy: { maxAge: '1 day' }, route }], [/^spec\.http\[0\]\.corsPolicy\.maxAge: Invalid value: "1 day": must be a duration/]],
  ];
  for (const [name, http, want] of rows) {
    const got = fmt(validateVirtualServiceL7(vs(http)));
    t.equal(got.length, want.length, `${name}: ${got.join(' | ')}`);
    want.forEach((w, i) => t.match(got[i] ?? '', w, name));
  }
  // What networking.ts already checks is not repeated here.
  const weights = virtualService.validate(vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 40 }] }]) as any) as any;
  t.match(fmt(weights.errors ?? weights).join('\n'), /spec\.http\[0\]\.route: Invalid value: 90: total destination weight 90 != 100/, 'weights: networking.ts');
  t.same(validateVirtualServiceL7(vs([{ match: [{ uri: { exact: '/a', prefix: '/b' } }], route }])), [], 'uri "exactly one": networking.ts, not repeated');
});

t.test('DestinationRule: rows → errors with paths', async (t) => {
  const rows: [string, any, RegExp[]][] = [
    ['valid', { trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'u', ttl: '10s' }, maglev: { tableSize: 65537 } } } } }, []],
    ['two hash keys', { trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x', useSourceIp: true } } } }, [/^spec\.trafficPolicy\.loadBalancer\.consistentHash: .*exactly one of httpHeaderName/]],
    ['cookie ttl', { subsets: [{ name: 'v1', trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'u', ttl: '10 seconds' } } } } }] }, [/^spec\.subsets\[0\]\.trafficPolicy\.loadBalancer\.consistentHash\.httpCookie\.ttl: .*must be a duration/]],
    ['ring and maglev', { trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, ringHash: {}, maglev: {} } } } }, [/consistentHash: .*only one of ringHash or maglev/]],
    ['maglev size', { trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 1000 } } } } }, [/consistentHash\.maglev\.tableSize: Invalid value: 1000: must be a prime number/]],
    ['tcp durations', { trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, connectionPool: { tcp: { idleTimeout: 'x', tcpKeepalive: { time: '5' } } } }] } },
      [/^spec\.trafficPolicy\.portLevelSettings\[0\]\.connectionPool\.tcp\.idleTimeout: /, /^spec\.trafficPolicy\.portLevelSettings\[0\]\.connectionPool\.tcp\.tcpKeepalive\.time: /]],
  ];
  for (const [name, spec, want] of rows) {
    const got = fmt(validateDestinationRuleL7(dr(spec)));
    t.equal(got.length, want.length, `${name}: ${got.join(' | ')}`);
    want.forEach((w, i) => t.match(got[i] ?? '', w, name));
  }
  t.ok(destinationRule, 'networking.ts keeps its own checks');
});

t.test('unknown subsets (cross-object: shoal analyze and admission)', async (t) => {
  const v = vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews.default.svc.cluster.local', subset: 'v3' }, weight: 10 }], mirror: { host: 'ratings', subset: 'v1' } }]);
  const got = fmt(unknownSubsets(v, [dr({ subsets: [{ name: 'v1' }, { name: 'v2' }] })]));
  t.match(got, [
    /^spec\.http\[0\]\.route\[1\]\.destination\.subset: Invalid value: "v3": subset not found: no DestinationRule for host reviews\.default\.svc\.cluster\.local defines it$/,
    /^spec\.http\[0\]\.mirror\.subset: Invalid value: "v1": subset not found: no DestinationRule for host ratings\.default\.svc\.cluster\.local/,
  ]);
  t.equal(got.length, 2);
  t.equal(re2Problem('(?P<x>a)'), null, "RE2's named group");
});
