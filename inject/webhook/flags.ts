// The webhook's command line: --tls-cert, --tls-key (required), --port (9443), --bind-address (0.0.0.0).

import { readFileSync } from 'node:fs';

/** Parsed flags or every error. */
export function parseWebhookFlags(argv: string[]): { flags?: { cert: string; key: string; port: number; host: string }; errors: string[] } {
  const errors: string[] = [];
  const v: Record<string, string> = {};
  const known = new Set(['--tls-cert', '--tls-key', '--port', '--bind-address']);
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!known.has(name)) {
      errors.push(`${name}: unknown flag`);
      continue;
    }
    const val = inline ?? argv[++i];
    if (val === undefined) errors.push(`${name}: needs a value`);
    else v[name] = val;
  }
  const port = v['--port'] ?? '9443';
  if (!/^\d+$/.test(port) || Number(port) > 65535) errors.push(`--port ${JSON.stringify(port)}: must be a port (0-65535)`);
  const read = (flag: string): string => {
    if (!v[flag]) {
      if (!errors.some((e) => e.startsWith(flag))) errors.push(`${flag}: required`);
      return '';
    }
    try {
      return readFileSync(v[flag]!, 'utf8');
    } catch (e) {
      errors.push(`${flag} ${v[flag]}: ${(e as Error).message}`);
      return '';
    }
  };
  const cert = read('--tls-cert');
  const key = read('--tls-key');
  if (errors.length) return { errors };
  return { flags: { cert, key, port: Number(port), host: v['--bind-address'] ?? '0.0.0.0' }, errors };
}
