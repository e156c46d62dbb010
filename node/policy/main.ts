// The NetworkPolicy enforcer process: parse flags (exit 64 listing every bad one), program the
// `shoal-policy` table until SIGTERM/SIGINT. The table stays on exit (fail closed) unless
// --cleanup-on-exit is given.

import { KubeClient } from '../../api/client/index.js';
import { realHost } from '../service-proxy/host/host.js';
import { startEnforcer } from './enforcer.js';
import { parsePolicyFlags } from './flags.js';

const { config, problems } = parsePolicyFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`shoal-policy: ${p}\n`);
  process.exit(64);
}
const log = (level: string, msg: string) => process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg })}\n`);
const enforcer = await startEnforcer(KubeClient.fromKubeconfig(config.kubeconfig), realHost, { ...config, log });
log('info', `policy enforcer ready (table ${config.tableSuffix ? `shoal-policy-${config.tableSuffix}` : 'shoal-policy'})`);
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void enforcer.close({ removeTable: config.cleanupOnExit }).then(() => process.exit(0), () => process.exit(1));
  });
}
