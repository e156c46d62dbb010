// Pure helpers: quantities, AGE formatting, DNS names, IPs and CIDRs.

import t from 'tap';
import { age, humanDuration } from '../../api/age.js';
import { isQuantity, milliValue, parseQuantity, tryParseQuantity } from '../../api/quantity.js';
import { cidr, dns1035Label, dns1123Label, dns1123Subdomain, portName, qualifiedName, wildcardOrSubdomain } from '../../api/validation/names.js';
import { cidrCovers as cidrContains, parseCIDR as parseCidr } from '../../lib/net/ip.js';

t.test('quantities', async (t) => {
  const rows: [string | number, number][] = [
    ['100m', 0.1],
    ['1', 1],
    ['0.5', 0.5],
    ['1Ki', 1024],
    ['1Gi', 1024 ** 3],
    ['128Mi', 128 * 1024 ** 2],
    ['1k', 1000],
    ['2M', 2e6],
    ['1e3', 1000],
    ['1.5E-3', 0.0015],
    ['500u', 0.0005],
    ['+2', 2],
    ['-1', -1],
    ['.5', 0.5],
    [3, 3],
  ];
  for (const [q, want] of rows) t.ok(Math.abs(parseQuantity(q) - want) < 1e-12, `${q} = ${want}`);
  for (const bad of ['', '1 Gi', '1GiB', 'Gi', '1.2.3', 'abc', '1ki', '--1']) {
    t.equal(tryParseQuantity(bad), undefined, `${JSON.stringify(bad)} rejected`);
    t.notOk(isQuantity(bad), `${JSON.stringify(bad)} is not a quantity`);
  }
  t.throws(() => parseQuantity('x'), /quantities must match the regular expression/);
  t.equal(milliValue('250m'), 250);
  t.equal(milliValue('2'), 2000);
  t.equal(milliValue('0.1'), 100);
});

t.test('age like kubectl', async (t) => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const rows: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [5 * s, '5s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [3 * m + 2 * s, '3m2s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [5 * h + 2 * m, '5h2m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d + 3 * h, '2d3h'],
    [3 * d, '3d'],
    [8 * d, '8d'],
    [400 * d, '400d'],
    [3 * 365 * d + 20 * d, '3y20d'],
    [9 * 365 * d, '9y'],
  ];
  for (const [ms, want] of rows) t.equal(humanDuration(ms), want, want);
  const now = new Date('2024-01-01T00:05:00Z');
  t.equal(age('2024-01-01T00:00:00Z', now), '5m');
  t.equal(age(undefined, now), '<unknown>');
});

t.test('names', async (t) => {
  const ok = (msgs: string[]) => msgs.length === 0;
  const rows: [string, (v: string) => string[], string, boolean][] = [
    ['label', dns1123Label, 'web-1', true],
    ['label', dns1123Label, '1-web', true],
    ['label', dns1123Label, 'Web', false],
    ['label', dns1123Label, 'a.b', false],
    ['label', dns1123Label, 'a'.repeat(64), false],
    ['subdomain', dns1123Subdomain, 'a.b-c.d', true],
    ['subdomain', dns1123Subdomain, 'a..b', false],
    ['dns1035', dns1035Label, 'web', true],
    ['dns1035', dns1035Label, '1web', false],
    ['qualified', qualifiedName, 'app', true],
    ['qualified', qualifiedName, 'example.com/App_1', true],
    ['qualified', qualifiedName, '/app', false],
    ['qualified', qualifiedName, 'a/b/c', false],
    ['qualified', qualifiedName, 'Example.com/app', false],
    ['portName', portName, 'http', true],
    ['portName', portName, 'http--x', false],
    ['portName', portName, '8080', false],
    ['portName', portName, 'a-very-long-port-name', false],
    ['wildcard', wildcardOrSubdomain, '*.example.com', true],
    ['wildcard', wildcardOrSubdomain, '*example.com', false],
  ];
  for (const [what, fn, v, want] of rows) t.equal(ok(fn(v)), want, `${what} ${v}`);
});

t.test('cidrs', async (t) => {
  const rows: [string, boolean][] = [
    ['10.0.0.0/8', true],
    ['10.0.0.1/32', true],
    ['10.0.0.0/33', false],
    ['10.0.0.0', false],
    ['fd00::/8', true],
    ['::ffff:10.0.0.0/104', true],
    ['2001:db8::/129', false],
    ['x/8', false],
  ];
  for (const [c, want] of rows) t.equal(cidr(c).length === 0, want, c);
  const c = (s: string) => parseCidr(s)!;
  t.ok(cidrContains(c('10.0.0.0/8'), c('10.1.0.0/16')));
  t.notOk(cidrContains(c('10.0.0.0/8'), c('192.168.0.0/16')));
  t.notOk(cidrContains(c('10.1.0.0/16'), c('10.0.0.0/8')));
  t.ok(cidrContains(c('fd00::/8'), c('fd00:1::/32')));
  t.notOk(cidrContains(c('fd00::/8'), c('fe80::/10')));
  t.notOk(cidrContains(c('10.0.0.0/8'), c('fd00::/8')));
  t.ok(cidrContains(c('::ffff:0.0.0.0/96'), c('::ffff:10.0.0.0/104')));
});
