// The init step's pure parts: istio-iptables flags (short, long, every bad flag named) and the generated
// `ip shoal-capture` ruleset, compared as text.
import t from 'tap';
import { parseInitFlags } from '../../sidecar/init/flags.js';
import { captureRuleset } from '../../sidecar/init/rules.js';
import { captureArgs } from '../../inject/capture.js';

t.test('flags', async (t) => {
  const d = parseInitFlags(captureArgs({}));
  t.same(d.errors, []);
  t.same(d.flags!.settings, {
    proxyPort: 15001, inboundCapturePort: 15006, proxyUid: 1337, mode: 'REDIRECT', includeOutboundCidrs: '*', excludeOutboundCidrs: [],
    includeInboundPorts: '*', excludeInboundPorts: [15090, 15021, 15020], excludeOutboundPorts: [],
  }, 'what the injector writes parses back to the defaults');
  const l = parseInitFlags(['--proxy-port=16001', '--istio-service-cidr', '10.0.0.0/8, 192.168.1.1', '--istio-local-outbound-ports-exclude', '53', '-b', '', '-n']);
  t.same(l.errors, []);
  t.equal(l.flags!.dryRun, true);
  t.match(l.flags!.settings, { proxyPort: 16001, includeOutboundCidrs: ['10.0.0.0/8', '192.168.1.1'], excludeOutboundPorts: [53], includeInboundPorts: [] });
  const bad = parseInitFlags(['-p', '0', '-u', 'proxy', '-m', 'TPROXY', '-i', '10.0.0.0/40', '-x', '*', '-b', '80,http', '-d', '70000', '-o', '-1', '--foo', 'stray', '-z']);
  t.same(bad.errors, [
    '--foo: unknown flag',
    '"stray": unexpected argument',
    '-z: needs a value',
    '-m "TPROXY": only REDIRECT is supported',
    '-p "0": must be a port (1-65535)',
    '-u "proxy": must be a numeric UID',
    '-i "10.0.0.0/40": "10.0.0.0/40" is not an IPv4 CIDR',
    '-x "*": "*" is not an IPv4 CIDR',
    '-b "80,http": "http" is not a port (1-65535)',
    '-d "70000": "70000" is not a port (1-65535)',
    '-o "-1": "-1" is not a port (1-65535)',
  ], 'every bad flag named');
  t.notOk(bad.flags);
});

const table = (out: string[], inb: string[]) => [
  'table ip shoal-capture', 'delete table ip shoal-capture', 'table ip shoal-capture {',
  '  chain output {', '    type nat hook output priority -100; policy accept;', ...out.map((l) => `    ${l}`), '  }',
  '  chain prerouting {', '    type nat hook prerouting priority -100; policy accept;', ...inb.map((l) => `    ${l}`), '  }', '}', '',
].join('\n');

t.test('ruleset text', async (t) => {
  const rows: { args: string[]; want: string }[] = [
    {
      args: captureArgs({}),
      want: table(
        ['meta l4proto != tcp return', 'meta skuid 1337 return', 'ip daddr 127.0.0.0/8 return', 'meta l4proto tcp redirect to :15001'],
        ['meta l4proto != tcp return', 'tcp dport { 15008, 15090, 15021, 15020, 15000 } return', 'meta l4proto tcp redirect to :15006'],
      ),
    },
    {
      args: ['-p', '15001', '-z', '15006', '-u', '1337', '-i', '10.96.0.0/12,10.244.0.0/16', '-x', '10.96.0.1', '-b', '8080', '-d', '15090,15021,15020,9000', '-o', '5432,6379'],
      want: table(
        ['meta l4proto != tcp return', 'meta skuid 1337 return', 'ip daddr 127.0.0.0/8 return', 'tcp dport { 5432, 6379 } return', 'ip daddr 10.96.0.1 return',
          'ip daddr != { 10.96.0.0/12, 10.244.0.0/16 } return', 'meta l4proto tcp redirect to :15001'],
        ['meta l4proto != tcp return', 'tcp dport { 15008, 15090, 15021, 15020, 15000, 9000 } return', 'tcp dport != 8080 return', 'meta l4proto tcp redirect to :15006'],
      ),
    },
    {
      args: ['-i', '', '-b', '', '-u', '2000', '-p', '16001'],
      want: table(
        ['meta l4proto != tcp return', 'meta skuid 2000 return', 'ip daddr 127.0.0.0/8 return'],
        ['meta l4proto != tcp return', 'tcp dport { 15008, 15090, 15021, 15020, 15000 } return'],
      ),
    },
  ];
  for (const r of rows) {
    const f = parseInitFlags(r.args);
    t.same(f.errors, []);
    t.equal(captureRuleset(f.flags!.settings), r.want, r.args.join(' '));
  }
});
