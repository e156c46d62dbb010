// The compiled `shoal` CLI run as a child process (not a test itself): a clean environment (PATH, HOME), no
// warnings on stderr, killed after 20 s. Shared by the mesh CLI tests.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** Runs `shoal ARGS…` → exit code and what it printed. */
export function shoal(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--no-warnings', CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}
