// The NetworkPolicy enforcer process: parse flags (exit 64 listing every bad one), program the
// `shoal-policy` table until SIGTERM/SIGINT (run.ts). The table stays on exit (fail closed) unless
// --cleanup-on-exit is given.

import { parsePolicyFlags } from './flags.js';
import { runPolicy } from './run.js';

const { config, problems } = parsePolicyFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`shoal-policy: ${p}\n`);
  process.exit(64);
}
const log = (level: string, msg: string) => process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg })}\n`);
const running = await runPolicy(config, log);
log('info', `policy enforcer ready (table ${config.tableSuffix ? `shoal-policy-${config.tableSuffix}` : 'shoal-policy'}, health ${running.healthUrl ?? 'off'})`);
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void running.close().then(() => process.exit(0), () => process.exit(1));
  });
}
