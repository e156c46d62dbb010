// The agent's side of `kubectl attach`: the container's output from the moment of attaching, read by
// following its log file (the container's stdout and stderr both go there, so both arrive on channel 1,
// or on channel 2 only when stdout was not asked for). The session ends with a Success status on channel
// 3 when the container's run ends (it restarted or the pod went away) and when the client leaves.
// The container's stdin is not connected: containers start with stdin from /dev/null (no `stdin: true`
// plumbing in the runner yet), so input sent on channel 0 is dropped.

import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { WebSocket } from 'ws';
import type { AttachTarget, ExecParams } from './exec-stream.js';

const POLL_MS = 100;

export function followAttach(ws: WebSocket, target: AttachTarget, p: ExecParams): void {
  let fd: number;
  let pos: number;
  try {
    fd = openSync(target.logFile, 'r');
    pos = statSync(target.logFile).size;
  } catch (e) {
    ws.send(Buffer.concat([Buffer.of(3), Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', reason: 'BadRequest', message: `container output unavailable: ${(e as Error).message}` }))]), () => ws.close(1000));
    return;
  }
  const channel = p.stdout || p.tty ? 1 : p.stderr ? 2 : 0;
  const buf = Buffer.alloc(65536);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    closeSync(fd);
  };
  const pump = () => {
    if (stopped) return;
    if (ws.bufferedAmount < 1 << 20) {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        pos += n;
        if (channel) ws.send(Buffer.concat([Buffer.of(channel), buf.subarray(0, n)]));
      }
    }
    if (!target.current()) {
      stop();
      ws.send(Buffer.concat([Buffer.of(3), Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }))]), () => ws.close(1000));
    }
  };
  const timer = setInterval(pump, POLL_MS);
  ws.on('close', stop);
  ws.on('error', stop);
}
