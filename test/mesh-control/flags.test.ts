// Mesh control's flags: defaults, and the standalone main exits 64 naming every bad flag.
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseMeshFlags } from '../../control-plane/mesh/flags.js';

const root = new URL('../../..', import.meta.url).pathname;

t.test('defaults', async (t) => {
  const { config } = parseMeshFlags([], { SHOAL_HOME: '/tmp/shoalt-x' });
  t.match(config, { grpcPort: 15012, debugPort: 15014, bindAddress: '0.0.0.0', caDir: '/tmp/shoalt-x/pki/mesh', maxCertTtlSec: 86400, debounceQuietMs: 100, debounceMaxMs: 1000, rootNamespace: 'istio-system', manageIstiodService: true });
});

t.test('main.js: exit 64 with every problem', async (t) => {
  const r = await new Promise<{ code: number; stderr: string }>((res) => execFile(process.execPath, [join(root, 'dist', 'control-plane', 'mesh', 'main.js'),
    '--grpc-port', '99999', '--debounce-after', '2s', '--max-cert-ttl', 'forever', '--advertise-address', 'host', '--bogus', 'x', 'extra'],
  (err, _o, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stderr })));
  t.equal(r.code, 64);
  for (const re of [/--grpc-port: must be an integer between 0 and 65535, got "99999"/, /--max-cert-ttl: must be a duration/, /--advertise-address: must be an IPv4 address, got "host"/,
    /--debounce-after, --debounce-max: the quiet period must not exceed the maximum/, /unknown flag: --bogus/, /unexpected argument: "extra"/]) t.match(r.stderr, re);
});
