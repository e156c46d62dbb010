#!/usr/bin/env node
// The dashboard, standalone: node dist/dashboard/main.js --kubeconfig … [flags]. Exits 64 listing every
// bad flag. `shoal up` runs the same thing inside its control-plane process.

import { parseDashboardFlags } from './flags.js';
import { runDashboard } from './run.js';

const { config, problems } = parseDashboardFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`dashboard: ${p}\n`);
  process.exit(64);
}
const d = await runDashboard(config);
process.stderr.write(`dashboard: serving on ${d.url}\n`);
const stop = () => void d.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
