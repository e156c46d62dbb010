// Host forwarding for the root-only tests that build their own node topology without `shoal up` (a pod's
// packet DNATed to a pod on the same bridge is routed back out of it: impossible with
// net.ipv4.ip_forward=0, which is what a fresh machine and CI have). Held exactly as `shoal up` holds it
// (node/agent/sandbox/sysctls.ts, node/agent/README.md "Host settings"): the egress guard of each of the
// test's bridges first, so pod traffic stays on the machine, then a holder record of its own; teardown
// releases the holder (the last live holder switches forwarding back to its original value, never under
// another running cluster or test) and only then removes the guards.

import type { Test } from 'tap';
import { guardTable, installEgressGuard } from '../cli/up/cleanup.js';
import { runSync } from '../lib/host/run.js';
import { describeSysctls, holdSysctls, releaseSysctls } from '../node/agent/sandbox/sysctls.js';

/** One bridge of the test and the destinations its forwarded traffic may have (its own ranges). */
export interface GuardedBridge {
  bridge: string;
  allowed: string[];
}

/**
 * Installs the guard of every bridge, then holds the host settings as `holder` (name it after the test's
 * prefix, e.g. `shoalt-pol-<tag>`); both undone in t.teardown, even when the test fails.
 */
export function holdHostForwarding(t: Test, holder: string, bridges: GuardedBridge[]): void {
  t.teardown(() => {
    // forwarding goes back off (when this was the last holder) before the guards go, never after
    const out = releaseSysctls(holder);
    if (out.length) t.comment(`host: ${describeSysctls(out)}`);
    for (const b of bridges) runSync('nft', ['delete', 'table', 'inet', guardTable(b.bridge)]);
  });
  for (const b of bridges) {
    const e = installEgressGuard(b.bridge, b.allowed);
    if (e) throw new Error(`egress guard of ${b.bridge}: ${e}`);
  }
  t.comment(`host: ${describeSysctls(holdSysctls(holder))}`);
}
