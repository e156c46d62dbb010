// The CNI 1.1.0 data types: network configuration as a plugin receives it, and the result in its
// newest (1.1.0) shape. Older result formats are produced from these by cni/spec/version.ts.

/** A route in a result or IPAM config. 1.1.0 adds mtu, advmss, priority, table and scope. */
export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

/** DNS settings (result and config share the shape). */
export interface DNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** An interface the plugin created; `sandbox` is the netns path for container-side interfaces. */
export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

/** An address assigned to an interface (index into `interfaces`). */
export interface IPConfig {
  address: string;
  gateway?: string;
  interface?: number;
}

/** A CNI 1.x result. */
export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns?: DNS;
}

/** One attachment the runtime still considers valid (GC input). */
export interface Attachment {
  containerID: string;
  ifname: string;
}

/** The fields every plugin config may carry (the rest are plugin-specific). */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  capabilities?: Record<string, boolean>;
  ipam?: { type?: string; [k: string]: unknown };
  dns?: DNS;
  args?: Record<string, unknown>;
  runtimeConfig?: Record<string, unknown>;
  prevResult?: unknown;
  'cni.dev/valid-attachments'?: Attachment[];
  'cni.dev/attachments'?: Attachment[];
  [k: string]: unknown;
}

/** The keys the spec or the runtime may put into any plugin's config. */
export const commonConfKeys = [
  'cniVersion',
  'name',
  'type',
  'capabilities',
  'ipam',
  'dns',
  'args',
  'runtimeConfig',
  'prevResult',
  'cni.dev/valid-attachments',
  'cni.dev/attachments',
  'cniVersions',
  'disableCheck',
  'disableGC',
] as const;
