// Loads the mesh's .proto files (discovery and Istio's CA) with @grpc/proto-loader, once per process, with
// the options both sides of the wire use (MESH-CONTRACT.md): camelCase fields, longs as numbers, enums as
// strings, defaults filled in, the oneof's chosen field named in `kind`. The .proto files stay in the repo
// (proto/…); from dist/proto/load.js they are found relative to the repo root, not to dist.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** proto-loader options shared by mesh control and the sidecars. */
export const loaderOptions: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

/** Type URLs of the discovery resources. */
export const TYPE_SERVICE = 'type.shoal.io/shoal.mesh.v1.Service';
export const TYPE_ENDPOINTS = 'type.shoal.io/shoal.mesh.v1.Endpoints';
export const TYPE_WORKLOAD = 'type.shoal.io/shoal.mesh.v1.Workload';
export const TYPE_ROUTES = 'type.shoal.io/shoal.mesh.v1.RouteConfig';
export const TYPE_URLS = [TYPE_SERVICE, TYPE_ENDPOINTS, TYPE_WORKLOAD, TYPE_ROUTES] as const;

/** The folder holding the .proto files: <repo>/proto, whether this module runs from dist/proto or proto. */
export function protoDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [resolve(here, '..', '..', 'proto'), here]) if (existsSync(join(dir, 'shoal', 'mesh', 'v1', 'discovery.proto'))) return dir;
  throw new Error(`mesh .proto files not found near ${here} (expected <repo>/proto/shoal/mesh/v1/discovery.proto)`);
}

/** The loaded services: constructors for clients, definitions for servers. */
export interface MeshProto {
  AggregatedDiscoveryService: grpc.ServiceClientConstructor;
  IstioCertificateService: grpc.ServiceClientConstructor;
}

let cached: MeshProto | undefined;

/** Loads (once) and returns the discovery and CA services. */
export function loadMeshProto(): MeshProto {
  if (cached) return cached;
  const dir = protoDir();
  const def = protoLoader.loadSync(['shoal/mesh/v1/discovery.proto', 'istio/v1/ca.proto'], { ...loaderOptions, includeDirs: [dir] });
  const pkg = grpc.loadPackageDefinition(def) as any;
  cached = {
    AggregatedDiscoveryService: pkg.shoal.mesh.v1.AggregatedDiscoveryService,
    IstioCertificateService: pkg.istio.v1.auth.IstioCertificateService,
  };
  return cached;
}
