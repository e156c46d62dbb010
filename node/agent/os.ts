// The agent's one seam to the operating system's processes: run a command to completion (lib/host's
// runner, with its one failure rule), spawn a detached long-lived process (holders and containers outlive
// a restarted agent), and look at or signal a PID. Sandbox, container runner and cgroups take an `Os`;
// unit tests pass a fake.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { realRunner, type Runner } from '../../lib/host/run.js';

/** A detached process; `exited` settles when it ends (only for processes this agent spawned). */
export interface Spawned {
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** first line the process wrote on stdout (when asked for), or its stderr if it died first */
  firstLine?: Promise<string>;
}

/** The process seam. */
export interface Os extends Runner {
  spawnDetached(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; logFd?: number; readFirstLine?: boolean; stdinFd?: number }): Spawned;
  /** running and not a zombie */
  alive(pid: number): boolean;
  kill(pid: number, signal: NodeJS.Signals): boolean;
  /** direct children of a PID */
  children(pid: number): number[];
  /** /proc/<pid>/stat start time (to tell a PID from a reused one); '' when gone */
  startTime(pid: number): string;
}

function procStat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The real thing. */
export const realOs: Os = {
  run: (cmd, args, opts) => realRunner.run(cmd, args, opts),

  spawnDetached(cmd, args, opts) {
    const out = opts.readFirstLine ? 'pipe' : (opts.logFd ?? 'ignore');
    const child = spawn(cmd, args, { env: opts.env ?? process.env, detached: true, stdio: [opts.stdinFd ?? 'ignore', out, opts.readFirstLine ? 'pipe' : (opts.logFd ?? 'ignore')] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', () => resolve({ code: 127, signal: null }));
    });
    let firstLine: Promise<string> | undefined;
    if (opts.readFirstLine && child.stdout && child.stderr) {
      const so = child.stdout;
      const se = child.stderr;
      firstLine = new Promise((resolve, reject) => {
        let buf = '';
        let err = '';
        se.setEncoding('utf8').on('data', (d: string) => (err += d));
        so.setEncoding('utf8').on('data', (d: string) => {
          buf += d;
          const nl = buf.indexOf('\n');
          if (nl >= 0) {
            resolve(buf.slice(0, nl));
            so.destroy();
            se.destroy();
          }
        });
        void exited.then((r) => reject(new Error(`${cmd} exited (${r.code ?? r.signal}): ${err.trim() || buf.trim()}`)));
      });
      firstLine.catch(() => undefined);
    }
    child.unref();
    return { pid: child.pid ?? -1, exited, firstLine };
  },

  alive(pid) {
    const st = procStat(pid);
    return !!st && st[0] !== 'Z' && st[0] !== 'X';
  },

  kill(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  },

  children(pid) {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  },

  startTime(pid) {
    return procStat(pid)?.[19] ?? '';
  },
};
