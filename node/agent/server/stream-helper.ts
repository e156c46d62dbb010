// Where the agent finds `shoal-stream` (node/agent/stream/shoal-stream.c, built by scripts/postbuild.mjs
// next to the compiled agent): the pseudo-terminal of `kubectl exec -t` and the in-pod connect of
// `kubectl port-forward` need it, since Node can neither forkpty nor setns. SHOAL_STREAM_HELPER overrides.

import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The helper's path (dist/node/agent/stream/shoal-stream unless SHOAL_STREAM_HELPER is set). */
export function streamHelperPath(): string {
  return process.env.SHOAL_STREAM_HELPER || resolve(dirname(fileURLToPath(import.meta.url)), '..', 'stream', 'shoal-stream');
}

/** The helper's path, or an error saying what is missing and how to get it. */
export function findStreamHelper(): string {
  const p = streamHelperPath();
  try {
    accessSync(p, constants.X_OK);
    return p;
  } catch {
    throw new Error(`the node agent's streaming helper ${p} is missing (built from node/agent/stream/shoal-stream.c by scripts/postbuild.mjs; install a C compiler and rebuild): TTY sessions and port-forward need it`);
  }
}
