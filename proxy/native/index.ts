// Loads the SO_ORIGINAL_DST addon (original_dst.c, built next to this file by scripts/postbuild.mjs).
// Node cannot read a redirected socket's original destination by itself; without the addon the
// outbound and inbound listeners cannot work, so the proxy checks `originalDstAvailable()` at startup
// and says so clearly.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Socket } from 'node:net';

/** The original destination of a redirected connection. */
export interface OriginalDst { address: string; port: number; family: 4 | 6 }

interface Addon { getOriginalDst(fd: number): OriginalDst }

/** Where the addon is expected. */
export const ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), 'original_dst.node');

let addon: Addon | null = null;
let loadError = '';
try {
  addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
} catch (e) {
  loadError = `SO_ORIGINAL_DST addon not loaded from ${ADDON_PATH}: ${(e as Error).message} ` +
    '(build it with `node scripts/postbuild.mjs`, which needs a C compiler and node\'s headers)';
}

/** Null when the addon is loaded, else the reason it is not. */
export function originalDstUnavailable(): string | null {
  return addon ? null : loadError;
}

/** The original destination of `socket`, or null when it was not redirected (or has no fd). */
export function getOriginalDst(socket: Socket): OriginalDst | null {
  if (!addon) throw new Error(loadError);
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return null;
  try {
    return addon.getOriginalDst(fd);
  } catch {
    return null;
  }
}
