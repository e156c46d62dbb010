// The `shoal/proxy-init` image (`istio-init`): parses istio-iptables' flags, generates the `ip
// shoal-capture` table and applies it with `nft -f -` in the network namespace it runs in (the pod's:
// the node agent starts init containers inside the pod's namespaces). Exit 64 on bad flags, each named.

import { spawnSync } from 'node:child_process';
import { parseInitFlags } from './flags.js';
import { captureRuleset } from './rules.js';

/** Applies a ruleset with `nft -f -`; returns an error message or undefined. */
export function applyRuleset(text: string): string | undefined {
  const r = spawnSync('nft', ['-f', '-'], { input: text, encoding: 'utf8' });
  if (r.error) return `nft: ${r.error.message}`;
  if (r.status !== 0) return `nft -f - exited ${r.status}: ${r.stderr.trim()}`;
  return undefined;
}

function main(argv: string[]): number {
  const { flags, errors } = parseInitFlags(argv);
  if (!flags) {
    for (const e of errors) process.stderr.write(`proxy-init: ${e}\n`);
    return 64;
  }
  const text = captureRuleset(flags.settings);
  process.stdout.write(text);
  if (flags.dryRun) return 0;
  const err = applyRuleset(text);
  if (err) {
    process.stderr.write(`proxy-init: ${err}\n`);
    return 1;
  }
  process.stdout.write(`proxy-init: table ip shoal-capture installed\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
