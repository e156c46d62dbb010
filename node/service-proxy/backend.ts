// What the sync loop drives: one backend per mode (nftables, userspace), each told the whole desired
// state plus which Services changed since the last successful sync.

import type { ServicePort } from './model/servicemap.js';

/** A proxy mode. */
export interface Backend {
  /** sets up host state (tables, interface); may be called again after a failure */
  init(): Promise<void>;
  /** programs `desired`; `changed` names the Services to look at, `undefined` means all (full resync) */
  sync(desired: Map<string, ServicePort[]>, changed: Set<string> | undefined): Promise<void>;
  /** removes everything it added to the host */
  close(): Promise<void>;
}
