// The standalone plugin process: what the shim execs when no daemon answers (and what a runtime
// may exec directly). `node main.js <plugin-name>` (or a symlink named after the plugin) runs one
// CNI invocation in-process and exits with its code. Logs go to stderr only.

import { basename } from 'node:path';
import { makePlugins } from '../plugins.js';
import { dispatch } from '../skel/skel.js';

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const name = process.argv[2] ?? basename(process.argv[1] ?? '');
const plugin = makePlugins().get(name);
if (!plugin) {
  process.stderr.write(`shoal-cni: unknown plugin ${JSON.stringify(name)}; want shoal-bridge or shoal-ipam\n`);
  process.exit(64);
}
const stdin = process.env.CNI_COMMAND === 'VERSION' ? Buffer.alloc(0) : await readStdin();
const code = await dispatch(plugin, {
  env: process.env,
  stdin,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
