// The `shoal cni ...` subcommands, so the CLI needs one dispatch line:
//   shoal cni install [--bin-dir D] [--conf-dir D] [--subnet CIDR] [--bridge NAME] [--no-masq]
//   shoal cni daemon [--socket PATH]
// Exit codes: 0 ok, 1 failure, 64 bad usage (after reporting every bad flag).

import { installCni } from './install.js';
import { defaultSocket, startCniDaemon } from './daemon/server.js';

const usage = 'usage: shoal cni install [--bin-dir D] [--conf-dir D] [--subnet CIDR] [--bridge NAME] [--no-masq] | shoal cni daemon [--socket PATH]';

/** Parses `--flag value` pairs; returns the values and every problem found. */
function parseFlags(argv: string[], valued: string[], bare: string[]): { flags: Record<string, string | true>; errors: string[] } {
  const flags: Record<string, string | true> = {};
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (bare.includes(name)) flags[name] = true;
    else if (valued.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') errors.push(`${name}: needs a value`);
      else flags[name] = v;
    } else errors.push(`${a}: unknown flag`);
  }
  return { flags, errors };
}

/** Runs the daemon until SIGINT/SIGTERM. */
export async function runDaemon(argv: string[]): Promise<number> {
  const { flags, errors } = parseFlags(argv, ['--socket'], []);
  if (errors.length) {
    for (const e of errors) process.stderr.write(`shoal cni daemon: ${e}\n`);
    process.stderr.write(`${usage}\n`);
    return 64;
  }
  const socket = (flags['--socket'] as string | undefined) ?? process.env.SHOAL_CNI_SOCKET ?? defaultSocket;
  const d = await startCniDaemon(socket, {}, (m) => process.stderr.write(`shoal-cni-daemon: ${m}\n`));
  process.stderr.write(`shoal-cni-daemon: listening on ${d.socket}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void d.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** Entry point for `shoal cni <sub> ...`; resolves to the exit code. */
export async function runCniCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'daemon') return runDaemon(rest);
  if (sub !== 'install') {
    process.stderr.write(`${usage}\n`);
    return 64;
  }
  const { flags, errors } = parseFlags(rest, ['--bin-dir', '--conf-dir', '--subnet', '--bridge', '--network'], ['--no-masq']);
  if (errors.length) {
    for (const e of errors) process.stderr.write(`shoal cni install: ${e}\n`);
    process.stderr.write(`${usage}\n`);
    return 64;
  }
  try {
    const r = installCni({
      binDir: flags['--bin-dir'] as string | undefined,
      confDir: flags['--conf-dir'] as string | undefined,
      subnet: flags['--subnet'] as string | undefined,
      bridge: flags['--bridge'] as string | undefined,
      network: flags['--network'] as string | undefined,
      ipMasq: flags['--no-masq'] ? false : undefined,
    });
    process.stdout.write(`installed ${r.binaries.join(', ')}\nwrote ${r.conflist}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
