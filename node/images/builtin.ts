// The built-in images of the node agent's catalog: Shoal's own components, the sample app and convenience
// names. An image here is only a command (containers share the host's root filesystem); `{node}`, `{images}`
// and `{dist}` in an entrypoint are replaced by this Node binary, this folder's path and the compiled tree
// when the catalog resolves it.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An image: what Docker calls ENTRYPOINT and CMD, and extra environment. */
export interface ImageEntry {
  entrypoint: string[];
  cmd: string[];
  env?: Record<string, string>;
}

/** The compiled tree (`dist/`), where Shoal's own component images start from. */
export function distDir(): string {
  // dist/node/images/builtin.js → <root>/dist
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The folder holding hello.mjs (the source tree; .mjs files are not compiled). */
export function imagesDir(): string {
  // dist/node/images/builtin.js → <root>/node/images
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'node', 'images');
}

const sh: ImageEntry = { entrypoint: [], cmd: ['/bin/sh'] };

/** Built-ins by name without tag (any tag matches; the tag reaches the process as $SHOAL_IMAGE_TAG). */
export const builtinImages: Readonly<Record<string, ImageEntry>> = Object.freeze({
  'shoal/hello': { entrypoint: ['{node}', '--max-old-space-size=32', '{images}/hello.mjs'], cmd: [] },
  // NetworkPolicy e2e image (agnhost.mjs): serves its hostname on TCP and UDP 80, 81; `probe` mode
  'shoal/agnhost': { entrypoint: ['{node}', '--max-old-space-size=32', '{images}/agnhost.mjs'], cmd: [] },
  // the Bookinfo sample (samples/bookinfo, bookinfo.mjs): one file, the service as its first argument; HTTP :9080
  'shoal/bookinfo-productpage': { entrypoint: ['{node}', '--max-old-space-size=32', '{images}/bookinfo.mjs', 'productpage'], cmd: [] },
  'shoal/bookinfo-details': { entrypoint: ['{node}', '--max-old-space-size=32', '{images}/bookinfo.mjs', 'details'], cmd: [] },
  // the tag is the version: v1 no stars, v2 black stars, v3 red stars (v2/v3 call ratings)
  'shoal/bookinfo-reviews': { entrypoint: ['{node}', '--max-old-space-size=32', '{images}/bookinfo.mjs', 'reviews'], cmd: [] },
  'shoal/bookinfo-ratings': { entrypoint: ['{node}', '--max-old-space-size=32', '{images}/bookinfo.mjs', 'ratings'], cmd: [] },
  'shoal/pause': { entrypoint: ['sleep', 'infinity'], cmd: [] },
  // cluster DNS (dns/main.ts), run by `shoal up` as the kube-system Deployment behind Service kube-dns
  'shoal/dns': { entrypoint: ['{node}', '{dist}/dns/main.js'], cmd: [] },
  // the ingress controller (ingress/main.ts), run by `shoal up` as the kube-system Deployment shoal-ingress
  'shoal/ingress': { entrypoint: ['{node}', '--max-semi-space-size=8', '{dist}/ingress/main.js'], cmd: [] },
  'shoal/shell': { entrypoint: ['/bin/sh', '-c'], cmd: [] },
  // the mesh sidecar (sidecar/main.ts), injected as the native sidecar istio-proxy; a 2 MB young generation
  'shoal/sidecar': { entrypoint: ['{node}', '--max-semi-space-size=2', '{dist}/sidecar/main.js'], cmd: [] },
  // the capture-rules init step (sidecar/init/main.ts), injected as istio-init; args are istio-iptables' flags
  'shoal/proxy-init': { entrypoint: ['{node}', '{dist}/sidecar/init/main.js'], cmd: [] },
  // the injector as a mutating admission webhook (inject/webhook/main.ts), for running it as a pod
  'shoal/inject-webhook': { entrypoint: ['{node}', '{dist}/inject/webhook/main.js'], cmd: [] },
  busybox: sh,
  alpine: sh,
  debian: sh,
  ubuntu: sh,
});
