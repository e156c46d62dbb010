// Reading and writing sysctls through /proc/sys, behind the same kind of seam as the runner: the node,
// the service proxy and the policy enforcer set host prerequisites (ip_forward, route_localnet,
// bridge-nf-call-iptables); their unit tests hand in FakeHost (fake.ts) instead.

import { readFileSync, writeFileSync } from 'node:fs';
import { realRunner, type Runner } from './run.js';

/** The sysctl seam. */
export interface Sysctls {
  /** the value, trimmed; undefined when the key does not exist (module not loaded) */
  readSysctl(name: string): string | undefined;
  writeSysctl(name: string, value: string): void;
}

/** A runner and sysctls: everything a node component does to the host. */
export interface Host extends Runner, Sysctls {}

/** `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward`. */
export const sysctlPath = (name: string) => `/proc/sys/${name.replace(/\./g, '/')}`;

/** The real /proc/sys. */
export const realSysctls: Sysctls = {
  readSysctl(name) {
    try {
      return readFileSync(sysctlPath(name), 'utf8').trim();
    } catch {
      return undefined;
    }
  },
  writeSysctl(name, value) {
    writeFileSync(sysctlPath(name), value);
  },
};

/** The real host: realRunner plus /proc/sys. */
export const realHost: Host = {
  run: (cmd, args, opts) => realRunner.run(cmd, args, opts),
  readSysctl: (name) => realSysctls.readSysctl(name),
  writeSysctl: (name, value) => realSysctls.writeSysctl(name, value),
};

/** A Host from a runner (tests with a FakeRunner) and sysctls (default: the real ones). */
export function hostOf(runner: Runner, sysctls: Sysctls = realSysctls): Host {
  return { run: (c, a, o) => runner.run(c, a, o), readSysctl: (n) => sysctls.readSysctl(n), writeSysctl: (n, v) => sysctls.writeSysctl(n, v) };
}
