// Starting and stopping container processes. A container is `nsenter --target <holder> -p -m -u -i -n`
// running a tiny sh wrapper that joins the container's cgroups, enters workingDir and execs the
// command, so the PID we track (the wrapper's, then the command's) is the container's main process.
// stdout and stderr go straight to the log file (processes outlive a restarted agent; no pipe to
// break). A `stdin: true` container reads a FIFO in its pod dir (attach writes into it), for the same reason. Exit codes come from the process for containers this agent started; for adopted ones the
// agent polls the PID and reports 137/ContainerStatusUnknown like the kubelet when it cannot know.

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pollFor, sleep } from '../../../lib/time/clock.js';
import type { Os } from '../os.js';
import { constants } from 'node:os';

/** What to start. */
export interface StartSpec {
  holderPid: number;
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  logFile: string;
  cgroupProcs: string[];
  /** argv prefix that switches user (identity.ts), exec'd after the cgroups are joined */
  userPrefix?: string[];
  /** `stdin: true`: the container's stdin is this FIFO (opened read-write, so it never sees end of file) */
  stdinFifo?: string;
}

/** How a container process ended. */
export interface ExitInfo {
  exitCode: number;
  signal?: number;
  /** false when the agent could not observe the exit (adopted process) */
  known: boolean;
}

/** A started (or adopted) container process. */
export interface RunningProcess {
  pid: number;
  startTime: string;
  exited: Promise<ExitInfo>;
}

const WRAPPER = [
  'for f in $SHOAL_CGROUP_PROCS; do echo $$ > "$f" || exit 126; done',
  'if [ -n "$SHOAL_WORKDIR" ]; then mkdir -p "$SHOAL_WORKDIR" && cd "$SHOAL_WORKDIR" || exit 126; fi',
  'unset SHOAL_CGROUP_PROCS SHOAL_WORKDIR',
  'exec "$@"',
].join('\n');

/** nsenter arguments that enter every namespace of a pod's holder. */
export function enterArgs(holderPid: number): string[] {
  return ['--target', String(holderPid), '--pid', '--mount', '--uts', '--ipc', '--net', '--'];
}

/** Starts a container process; resolves once its PID inside the pod is known. */
export async function startProcess(os: Os, s: StartSpec): Promise<RunningProcess> {
  mkdirSync(dirname(s.logFile), { recursive: true });
  const fd = openSync(s.logFile, 'a');
  // a FIFO opened read-write never blocks and keeps a writer: the container waits for input, attach writes it
  const stdinFd = s.stdinFifo ? openSync(s.stdinFifo, 'r+') : undefined;
  let sp;
  try {
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...s.env, SHOAL_CGROUP_PROCS: s.cgroupProcs.join(' '), SHOAL_WORKDIR: s.workingDir ?? '' };
    sp = os.spawnDetached('nsenter', [...enterArgs(s.holderPid), '/bin/sh', '-c', WRAPPER, 'sh', ...(s.userPrefix ?? []), ...s.argv], { env, logFd: fd, ...(stdinFd !== undefined ? { stdinFd } : {}) });
  } finally {
    closeSync(fd);
    if (stdinFd !== undefined) closeSync(stdinFd);
  }
  const launcher = sp.pid;
  // nsenter forks once to enter the PID namespace; its child is the container's main process
  const pid = await pollFor(() => os.children(launcher)[0], 2000);
  const exited = sp.exited.then((r): ExitInfo => {
    if (r.signal) {
      const n = constants.signals[r.signal] ?? 9;
      return { exitCode: 128 + n, signal: n, known: true };
    }
    return { exitCode: r.code ?? 0, known: true };
  });
  if (pid === undefined) {
    const r = await Promise.race([exited, sleep(100).then(() => undefined)]);
    if (r) return { pid: -1, startTime: '', exited: Promise.resolve(r) };
    os.kill(launcher, 'SIGKILL');
    throw new Error('container start: nsenter did not fork the container process');
  }
  return { pid, startTime: os.startTime(pid), exited };
}

/** Watches a process this agent did not start (adoption): resolves when the PID is gone. */
export function watchAdopted(os: Os, pid: number, startTime: string, pollMs = 500): RunningProcess {
  const exited = new Promise<ExitInfo>((resolve) => {
    const tick = () => {
      if (!os.alive(pid) || os.startTime(pid) !== startTime) resolve({ exitCode: 137, known: false });
      else setTimeout(tick, pollMs).unref();
    };
    tick();
  });
  return { pid, startTime, exited };
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves when the process is gone. */
export async function stopProcess(os: Os, p: RunningProcess, graceMs: number): Promise<void> {
  if (p.pid <= 0) return;
  const done = p.exited.then(() => true);
  if (graceMs > 0 && os.kill(p.pid, 'SIGTERM')) {
    const ok = await Promise.race([done, sleep(graceMs).then(() => false)]);
    if (ok) return;
  }
  os.kill(p.pid, 'SIGKILL');
  await Promise.race([done, sleep(5000)]);
}

/** Runs a command in a pod's namespaces (exec, exec probes, hooks) with a deadline. */
export function execInPod(os: Os, holderPid: number, argv: string[], env: Record<string, string>, timeoutMs: number, input?: string, workingDir?: string) {
  const args = enterArgs(holderPid);
  if (workingDir) args.splice(args.length - 1, 0, `--wd=${workingDir}`);
  return os.run('nsenter', [...args, ...argv], { env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env }, timeoutMs, input });
}
