// The agent's side of `kubectl attach`: the container's output from the moment of attaching, read by
// following its log file (the container's stdout and stderr both go there, so both arrive on channel 1,
// or on channel 2 only when stdout was not asked for). The session ends with a Success status on channel
// 3 when the container's run ends (it restarted or the pod went away) and when the client leaves.
// With `stdin=1` and a `stdin: true` container, channel 0 is written into the container's stdin FIFO
// (containers/runner.ts); otherwise input is dropped (other containers' stdin is /dev/null). The FIFO is
// held open read-write by the container, so the end of the client's stdin is not an end of file for it
// (kube's `stdinOnce` is not honoured).

import { constants, openSync, readSync, closeSync, statSync, write } from 'node:fs';
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
  const input = p.stdin && target.stdinPath ? stdinWriter(target.stdinPath) : undefined;
  if (input) ws.on('message', (data: Buffer) => {
    if (data[0] === 0 && data.length > 1) input.write(Buffer.from(data.subarray(1)));
  });
  ws.on('close', () => {
    stop();
    input?.close();
  });
  ws.on('error', () => {
    stop();
    input?.close();
  });
}

/** Writes into a FIFO in order, without blocking the agent (a full pipe is retried). */
function stdinWriter(path: string): { write(b: Buffer): void; close(): void } {
  let fd: number | undefined;
  try {
    // the container holds the read end, so a non-blocking write-only open succeeds
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    fd = undefined;
  }
  const queue: Buffer[] = [];
  let busy = false;
  const drain = () => {
    if (busy || fd === undefined || !queue.length) return;
    busy = true;
    const b = queue[0]!;
    write(fd, b, (err, n) => {
      busy = false;
      if (err && (err as NodeJS.ErrnoException).code !== 'EAGAIN') queue.length = 0;
      else if (!err) {
        if (n < b.length) queue[0] = b.subarray(n);
        else queue.shift();
      }
      if (err) setTimeout(drain, 20).unref();
      else drain();
    });
  };
  return {
    write(b) {
      queue.push(b);
      drain();
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
