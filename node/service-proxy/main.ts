// The service proxy process (kube-proxy-like): parse flags (exit 64 listing every bad one), run until
// SIGTERM/SIGINT, then remove the table, the VIP interface and the listeners it made.

import { parseProxyFlags } from './flags.js';
import { runProxy } from './build.js';

const { config, problems } = parseProxyFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`shoal-service-proxy: ${p}\n`);
  process.exit(64);
}
const proxy = await runProxy(config);
process.stderr.write(`${JSON.stringify({ level: 'info', msg: `service proxy ready (${config.mode})`, health: proxy.healthUrl })}\n`);
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void proxy.close().then(() => process.exit(0), () => process.exit(1));
  });
}
