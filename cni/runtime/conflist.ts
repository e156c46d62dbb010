// Reading network configuration lists from a directory the way libcni does: files sorted by name;
// `.conflist` files as they are, `.conf` and `.json` files (one plugin) up-converted to a list of one.
// A bad file is reported with its path and skipped; the others still load.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CniCode, CniError } from '../spec/errors.js';
import { isVersion, requireSupported } from '../spec/version.js';

/** One plugin's config inside a list (without name/cniVersion, which the list supplies). */
export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [k: string]: unknown;
}

/** A validated network configuration list. */
export interface NetworkList {
  cniVersion: string;
  name: string;
  disableCheck: boolean;
  disableGC: boolean;
  plugins: PluginConf[];
  /** The list as JSON (what the result cache stores). */
  bytes: Buffer;
  /** The file it came from, when loaded from disk. */
  file?: string;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CniError(CniCode.DecodingFailure, `${what}: must be a JSON object`);
  return v as Record<string, unknown>;
}

/** Validates a parsed conflist object. */
export function parseConfList(raw: unknown, file = 'conflist'): NetworkList {
  const o = asObject(raw, file);
  if (!isVersion(o.cniVersion)) throw new CniError(CniCode.IncompatibleVersion, `${file}: cniVersion: Invalid value: ${JSON.stringify(o.cniVersion)}`);
  requireSupported(o.cniVersion);
  if (typeof o.name !== 'string' || o.name === '') throw new CniError(CniCode.InvalidNetworkConfig, `${file}: name: Required value`);
  if (!Array.isArray(o.plugins) || o.plugins.length === 0) throw new CniError(CniCode.InvalidNetworkConfig, `${file}: plugins: Required value: at least one plugin`);
  const plugins = o.plugins.map((p, i) => {
    const po = asObject(p, `${file}: plugins[${i}]`);
    if (typeof po.type !== 'string' || po.type === '') throw new CniError(CniCode.InvalidNetworkConfig, `${file}: plugins[${i}].type: Required value`);
    return po as PluginConf;
  });
  for (const k of ['disableCheck', 'disableGC']) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new CniError(CniCode.InvalidNetworkConfig, `${file}: ${k}: must be true or false`);
  }
  return {
    cniVersion: o.cniVersion,
    name: o.name,
    disableCheck: o.disableCheck === true,
    disableGC: o.disableGC === true,
    plugins,
    bytes: Buffer.from(JSON.stringify(o)),
    file,
  };
}

/** Up-converts a single-plugin `.conf` to a list of one. */
export function confToList(raw: unknown, file = 'conf'): NetworkList {
  const o = asObject(raw, file);
  const { cniVersion, name, ...plugin } = o;
  return parseConfList({ cniVersion, name, plugins: [plugin] }, file);
}

/** Parses a config file's text by its extension. */
export function parseConfFile(file: string, text: string): NetworkList {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CniError(CniCode.DecodingFailure, `${file}: ${(e as Error).message}`);
  }
  return file.endsWith('.conflist') ? parseConfList(raw, file) : confToList(raw, file);
}

/** Loads every config in `dir`, sorted by file name; bad files are returned in `errors`. */
export function loadConfDir(dir: string): { lists: NetworkList[]; errors: CniError[] } {
  const lists: NetworkList[] = [];
  const errors: CniError[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort();
  } catch (e) {
    return { lists, errors: [new CniError(CniCode.IOFailure, `${dir}: ${(e as Error).message}`)] };
  }
  for (const n of names) {
    const file = join(dir, n);
    try {
      lists.push(parseConfFile(file, readFileSync(file, 'utf8')));
    } catch (e) {
      errors.push(e instanceof CniError ? e : new CniError(CniCode.IOFailure, `${file}: ${(e as Error).message}`));
    }
  }
  return { lists, errors };
}
