// Every host side effect of the proxy behind one narrow seam: running a command with stdin (nft, ip,
// conntrack) and reading/writing a sysctl. `realHost` does it for real; tests hand in a recording fake.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** Result of one command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The seam. */
export interface Host {
  run(cmd: string, args: string[], stdin?: string): Promise<RunResult>;
  readSysctl(name: string): string | undefined;
  writeSysctl(name: string, value: string): void;
}

const sysctlPath = (name: string) => `/proc/sys/${name.replace(/\./g, '/')}`;

/** The real host. */
export const realHost: Host = {
  run(cmd, args, stdin) {
    return new Promise((resolve) => {
      const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('error', (e) => resolve({ code: 127, stdout, stderr: `${cmd}: ${e.message}` }));
      p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      p.stdin.on('error', () => undefined);
      p.stdin.end(stdin ?? '');
    });
  },
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

/** Runs and throws `<what>: <stderr>` on a non-zero exit. */
export async function mustRun(host: Host, what: string, cmd: string, args: string[], stdin?: string): Promise<string> {
  const r = await host.run(cmd, args, stdin);
  if (r.code !== 0) throw new Error(`${what}: ${cmd} exited ${r.code}: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
  return r.stdout;
}
