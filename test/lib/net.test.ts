// lib/net: table-driven parse/format rows (v4 and v6), containment, first host, pools, v4 numbers.
import t from 'tap';
import { cidrCovers, ipv4InCidr, cidrHas, firstHost, formatIP, hostsOf, intToIpv4, ipv4Mask, ipv4ToInt, isIPv4Cidr, nthAddress, overlaps, parseCIDR, parseIP, sizeOf } from '../../lib/net/ip.js';

t.test('parse and format', async (t) => {
  const rows: { in: string; want: string | undefined }[] = [
    { in: '10.96.0.1', want: '10.96.0.1' },
    { in: '256.1.1.1', want: undefined },
    { in: '10.96.0', want: undefined },
    { in: '2001:DB8:0:0:0:0:0:1', want: '2001:db8::1' },
    { in: '::ffff:1.2.3.4', want: '::ffff:102:304' },
    { in: '1::2::3', want: undefined },
  ];
  for (const r of rows) t.equal(parseIP(r.in) && formatIP(parseIP(r.in)!), r.want, r.in);
  t.equal(parseCIDR('10.96.0.0/33'), undefined);
  t.equal(parseCIDR('fd00::/64')?.prefix, 64);
});

t.test('ranges', async (t) => {
  t.equal(firstHost('10.96.0.0/12'), '10.96.0.1');
  t.equal(firstHost('10.96.5.7/12'), '10.96.0.1', 'host bits ignored');
  t.equal(firstHost('nope'), undefined);
  t.equal(nthAddress('10.96.0.0/12', 10), '10.96.0.10');
  t.equal(nthAddress('10.0.0.0/30', 4), undefined, 'outside');
  t.ok(cidrHas('10.244.0.0/16', '10.244.3.4'));
  t.notOk(cidrHas('10.244.0.0/16', '10.245.0.1'));
  t.ok(cidrHas('10.0.0.1', '10.0.0.1'), 'a bare address is a /32');
  t.notOk(cidrHas('10.0.0.0/8', 'fd00::1'), 'families differ');
  t.ok(cidrCovers(parseCIDR('10.244.0.0/16')!, parseCIDR('10.244.7.0/24')!));
  t.notOk(cidrCovers(parseCIDR('10.244.7.0/24')!, parseCIDR('10.244.0.0/16')!));
  t.ok(overlaps(parseCIDR('10.0.0.0/8')!, parseCIDR('10.1.0.0/16')!));
  t.equal(sizeOf(parseCIDR('10.0.0.0/24')!), 256n);
  t.ok(isIPv4Cidr('10.0.0.0/8'));
  t.notOk(isIPv4Cidr('fd00::/8'));
  t.notOk(isIPv4Cidr('10.0.0.0'));
  t.same(hostsOf('192.0.2.0/30'), ['192.0.2.1', '192.0.2.2'], 'network and broadcast excluded');
  t.same(hostsOf('192.0.2.0/31'), ['192.0.2.0', '192.0.2.1'], '/31: both');
  t.equal(hostsOf('10.0.0.0/8', 5).length, 5, 'bounded');
  t.ok(ipv4InCidr('10.1.2.3', '10.0.0.0/8'));
  t.ok(ipv4InCidr('10.1.2.3', '10.1.2.3'), 'bare address: /32');
  t.notOk(ipv4InCidr('10.1.2.3', '10.1.2.4/32'));
  t.ok(ipv4InCidr('1.2.3.4', '0.0.0.0/0'));
  t.notOk(ipv4InCidr('fd00::1', 'fd00::/8'), 'IPv6: never');
  t.notOk(ipv4InCidr('10.1.2.3', '10.0.0.0/33'));
});

t.test('IPv4 numbers', async (t) => {
  t.equal(ipv4ToInt('10.96.0.1'), 0x0a600001);
  t.equal(ipv4ToInt('10.96.0.256'), undefined);
  t.equal(intToIpv4(0xffffffff), '255.255.255.255');
  t.equal(ipv4Mask(0), 0);
  t.equal(ipv4Mask(12), 0xfff00000);
  t.equal(ipv4Mask(32), 0xffffffff);
});
