// After tsc: mark every compiled entry point (main.js) executable so `shoal` and the plugins run
// directly, and build the CNI shim (cni/shim/shim.c) with the C compiler when there is one. Without a
// compiler the plugins still work through the standalone Node entry point, only slower.
import { readdirSync, statSync, chmodSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name === 'main.js') chmodSync(p, 0o755);
  }
}
walk('dist');

const shimSrc = 'cni/shim/shim.c';
if (existsSync(shimSrc)) {
  const out = 'dist/cni/shim/shoal-cni-shim';
  mkdirSync('dist/cni/shim', { recursive: true });
  try {
    execFileSync('cc', [
      '-O2', '-Wall', '-o', out, shimSrc,
      `-DSHOAL_NODE="${process.execPath}"`,
      `-DSHOAL_STANDALONE="${resolve('dist/cni/standalone/main.js')}"`,
    ], { stdio: 'inherit' });
  } catch (e) {
    console.warn(`postbuild: could not build the CNI shim (${e.message}); install gcc for fast CNI calls`);
  }
}

// The proxy's SO_ORIGINAL_DST addon (proxy/native/original_dst.c): an N-API module compiled against the
// running node's headers. Without it the sidecar refuses to start and says why.
const odSrc = 'proxy/native/original_dst.c';
if (existsSync(odSrc)) {
  const include = resolve(process.execPath, '..', '..', 'include', 'node');
  mkdirSync('dist/proxy/native', { recursive: true });
  try {
    execFileSync('cc', [
      '-O2', '-Wall', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=original_dst', `-I${include}`,
      '-o', 'dist/proxy/native/original_dst.node', odSrc,
    ], { stdio: 'inherit' });
  } catch (e) {
    console.warn(`postbuild: could not build the SO_ORIGINAL_DST addon (${e.message}); the sidecar needs gcc and ${include}`);
  }
}

// The node agent's streaming helper (pseudo-terminals for `kubectl exec -t`, in-pod connect for
// `kubectl port-forward`): node/agent/stream/shoal-stream.c. Without it those two say so at run time.
const streamSrc = 'node/agent/stream/shoal-stream.c';
if (existsSync(streamSrc)) {
  mkdirSync('dist/node/agent/stream', { recursive: true });
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', 'dist/node/agent/stream/shoal-stream', streamSrc, '-lutil'], { stdio: 'inherit' });
  } catch (e) {
    console.warn(`postbuild: could not build the streaming helper (${e.message}); kubectl exec -t and port-forward need it`);
  }
}
