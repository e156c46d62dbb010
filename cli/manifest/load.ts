// Reading manifests for `apply -f`, `delete -f`: files, directories (optionally recursive) and stdin;
// multi-document YAML, JSON, and `kind: List` expanded into its items. Syntax errors name the file, line
// and column, as `error: error parsing app.yaml: line 7, column 3: <message>`. The file system is a seam.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { KubeObject } from '../../api/meta.js';
import { jsonErrorOffset } from './json-position.js';

/** One object and where it came from. */
export interface ManifestDoc {
  object: KubeObject;
  /** the file name as given ('-' for stdin) */
  source: string;
  /** 1-based index of the document in its file */
  index: number;
}

/** A manifest that cannot be read or parsed; the message is kubectl's. */
export class ManifestError extends Error {
  constructor(message: string, readonly source: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** The file system operations loading needs. */
export interface ManifestFs {
  readFile(path: string): string;
  isDirectory(path: string): boolean;
  readdir(path: string): string[];
}

/** The real file system. */
export const nodeFs: ManifestFs = {
  readFile: (p) => readFileSync(p, 'utf8'),
  isDirectory: (p) => statSync(p).isDirectory(),
  readdir: (p) => readdirSync(p),
};

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/** The files behind `-f` arguments: directories expand to their manifest files (recursively with -R). */
export function expandPaths(paths: string[], recursive: boolean, fs: ManifestFs = nodeFs): string[] {
  const out: string[] = [];
  const walk = (dir: string, top: boolean) => {
    for (const name of fs.readdir(dir).sort()) {
      const p = join(dir, name);
      if (fs.isDirectory(p)) {
        if (recursive) walk(p, false);
      } else if (MANIFEST_EXT.test(name)) out.push(p);
    }
    void top;
  };
  for (const p of paths) {
    if (p === '-') out.push(p);
    else {
      let dir: boolean;
      try {
        dir = fs.isDirectory(p);
      } catch {
        throw new ManifestError(`the path "${p}" does not exist`, p);
      }
      if (dir) walk(p, true);
      else out.push(p);
    }
  }
  return out;
}

/** `line L, column C` of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The yaml library's message without its ` at line L, column C:` tail and code excerpt. */
export function yamlMessage(m: string): string {
  return m.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Parse one file's text into objects. JSON (by extension or a leading `{`) or multi-document YAML. */
export function parseManifest(text: string, source: string): ManifestDoc[] {
  const trimmed = text.trimStart();
  const values: unknown[] = [];
  if (/\.json$/i.test(source) || (source === '-' && trimmed.startsWith('{'))) {
    try {
      values.push(JSON.parse(text));
    } catch {
      const off = jsonErrorOffset(text);
      const lc = lineColumn(text, off < 0 ? text.length : off);
      const what = off >= text.length ? 'unexpected end of JSON input' : `invalid character ${JSON.stringify(text[off] ?? '')}`;
      throw new ManifestError(`error parsing ${source}: line ${lc.line}, column ${lc.column}: ${what}`, source);
    }
  } else {
    const docs = YAML.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
    for (const d of Array.isArray(docs) ? docs : [docs]) {
      const err = d.errors[0];
      if (err) {
        const lp = err.linePos?.[0];
        const where = lp ? `line ${lp.line}, column ${lp.col}: ` : '';
        throw new ManifestError(`error parsing ${source}: ${where}${yamlMessage(err.message)}`, source);
      }
      values.push(d.toJS());
    }
  }
  const out: ManifestDoc[] = [];
  let index = 0;
  for (const v of values) {
    index++;
    if (v === null || v === undefined) continue; // empty document (`---` with nothing after it)
    if (typeof v !== 'object' || Array.isArray(v)) throw new ManifestError(`error parsing ${source}: document ${index}: expected an object, got ${Array.isArray(v) ? 'a list' : typeof v}`, source);
    const o = v as KubeObject;
    const missing = [...(o.apiVersion ? [] : ['apiVersion not set']), ...(o.kind ? [] : ['kind not set'])];
    if (missing.length) throw new ManifestError(`error validating "${source}": error validating data: [${missing.join(', ')}]`, source);
    if (/List$/.test(o.kind) && Array.isArray(o.items)) {
      for (const item of o.items as KubeObject[]) out.push({ object: item, source, index });
      continue;
    }
    o.metadata ??= {};
    out.push({ object: o, source, index });
  }
  return out;
}

/** Every object from `-f` paths, and one error per file that could not be read or parsed (the others still load). */
export async function loadManifests(paths: string[], o: { recursive?: boolean; readStdin: () => Promise<string>; fs?: ManifestFs }): Promise<{ docs: ManifestDoc[]; errors: ManifestError[] }> {
  const fs = o.fs ?? nodeFs;
  const docs: ManifestDoc[] = [];
  const errors: ManifestError[] = [];
  const files: string[] = [];
  for (const p of paths) {
    try {
      files.push(...expandPaths([p], !!o.recursive, fs));
    } catch (e) {
      errors.push(e as ManifestError);
    }
  }
  for (const file of files) {
    try {
      let text: string;
      if (file === '-') text = await o.readStdin();
      else {
        try {
          text = fs.readFile(file);
        } catch (e) {
          throw new ManifestError(`the path "${file}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
        }
      }
      docs.push(...parseManifest(text, file));
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      errors.push(e);
    }
  }
  return { docs, errors };
}
