// Mesh control as a process or a group member: a pino logger and startMeshControl.

import pino from 'pino';
import type { MeshConfig } from './flags.js';
import { startMeshControl, type MeshControl } from './control.js';

/** Starts mesh control with a JSON logger (component "mesh-control"). */
export async function runMeshControl(c: MeshConfig): Promise<MeshControl> {
  const logger = pino({ level: c.logLevel, base: { component: 'mesh-control' } });
  return startMeshControl(c, (level, msg, fields) => logger[level](fields ?? {}, msg));
}
