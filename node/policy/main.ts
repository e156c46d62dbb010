// The NetworkPolicy enforcer process: parse flags (exit 64 listing every bad one), program the
// `shoal-policy` table until SIGTERM/SIGINT, answer `/healthz` (200 while the last sync succeeded, 503
// with the error otherwise). The table stays on exit (fail closed) unless --cleanup-on-exit is given.

import { createServer } from 'node:http';
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
const health = createServer((req, res) => {
  if (req.url !== '/healthz') return void res.writeHead(404).end('not found\n');
  const err = enforcer.lastError();
  res.writeHead(err ? 503 : 200, { 'content-type': 'text/plain' }).end(err ? `last sync failed: ${err}\n` : 'ok\n');
});
if (config.healthPort) await new Promise<void>((res) => health.listen(config.healthPort, config.bindAddress, res));
log('info', `policy enforcer ready (table ${config.tableSuffix ? `shoal-policy-${config.tableSuffix}` : 'shoal-policy'})`);
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    health.close();
    void enforcer.close({ removeTable: config.cleanupOnExit }).then(() => process.exit(0), () => process.exit(1));
  });
}
