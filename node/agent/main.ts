// The node agent process: parse flags (exit 64 reporting every bad one), start, stop on SIGTERM/SIGINT
// leaving pods running for the next agent to adopt (or, with --cleanup-on-exit=true, stopping them all
// and removing the host routes, as `shoal up` does when the cluster stops).

import { parseAgentFlags } from './config.js';
import { startAgent } from './agent.js';

const { config, problems } = parseAgentFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`node-agent: ${p}\n`);
  process.exit(64);
}
const agent = await startAgent(config);
process.stderr.write(`node-agent: node ${config.nodeName} serving on ${agent.url}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => void agent.close(config.cleanupOnExit ? { stopPods: true, removeHostRoutes: true } : {}).then(() => process.exit(0)));
}
