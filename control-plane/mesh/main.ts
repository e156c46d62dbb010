#!/usr/bin/env node
// Mesh control (istiod-like), standalone: node dist/control-plane/mesh/main.js --kubeconfig … [flags].
// Exits 64 listing every bad flag.

import { parseMeshFlags } from './flags.js';
import { runMeshControl } from './run.js';

const { config, problems } = parseMeshFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`mesh-control: ${p}\n`);
  process.exit(64);
}
const mc = await runMeshControl(config);
const stop = () => void mc.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
