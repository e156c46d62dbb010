// The resident CNI daemon: listens on a unix socket (default /run/shoal/cni.sock), decodes each
// shim request and runs it through the same in-process dispatcher the standalone plugin uses, so
// a plugin call costs a socket round trip plus the kernel work instead of a Node start. The node
// agent embeds `startCniDaemon`; cni/daemon/main.ts runs it alone.

import { PATHS } from '../../lib/defaults/defaults.js';
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { dirname } from 'node:path';
import { type PluginSeams, makePlugins } from '../plugins.js';
import { dispatch } from '../skel/skel.js';
import { CniCode, CniError } from '../spec/errors.js';
import { currentVersion } from '../spec/version.js';
import { decodeRequest, encodeResponse } from './protocol.js';

/** The default daemon socket; the shim and daemon both honour SHOAL_CNI_SOCKET. */
export const defaultSocket: string = PATHS.cniSocket;

/** A running daemon. */
export interface CniDaemon {
  socket: string;
  close(): Promise<void>;
}

/** Starts the daemon on `socket`; a stale socket file is replaced. */
export async function startCniDaemon(socket: string, seams: PluginSeams = {}, log: (m: string) => void = () => undefined): Promise<CniDaemon> {
  const plugins = makePlugins(seams);
  mkdirSync(dirname(socket), { recursive: true, mode: 0o755 });
  try {
    unlinkSync(socket);
  } catch {
    /* none */
  }
  const server: Server = createServer({ allowHalfOpen: true }, (conn) => {
    const chunks: Buffer[] = [];
    conn.on('data', (d) => chunks.push(d));
    conn.on('error', () => undefined);
    conn.on('end', () => {
      void (async () => {
        let out = '';
        let err = '';
        let code: number;
        try {
          const req = decodeRequest(Buffer.concat(chunks));
          const plugin = plugins.get(req.plugin);
          if (!plugin) throw new CniError(CniCode.Generic, `shoal-cni daemon: unknown plugin ${JSON.stringify(req.plugin)}`);
          code = await dispatch(plugin, { env: req.env, stdin: req.stdin, stdout: (s) => (out += s), stderr: (s) => (err += s) });
          if (code !== 0 || err) log(`${req.plugin} ${req.env.CNI_COMMAND ?? ''} ${req.env.CNI_CONTAINERID ?? ''}: exit ${code} ${out} ${err}`.trim());
        } catch (e) {
          const ce = e instanceof CniError ? e : new CniError(CniCode.DecodingFailure, (e as Error).message);
          out = JSON.stringify(ce.toJSON(currentVersion));
          code = 1;
        }
        conn.end(encodeResponse(code, out, err));
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  chmodSync(socket, 0o600);
  return {
    socket,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(socket);
        } catch {
          /* gone */
        }
      }),
  };
}
