// After tsc: mark every compiled entry point (main.js) executable so `shoal` and the plugins run directly.
import { readdirSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name === 'main.js') chmodSync(p, 0o755);
  }
}
walk('dist');
