// The local image catalog: image names mapped to commands. Built-ins come from node/images; users add
// their own with `shoal image add NAME[:TAG] -- CMD ARGS…`, stored in <home>/images.json (format in
// README.md). Lookup order: user `name:tag`, user `name` (any tag), built-in `name` (any tag). Registry
// hosts (`docker.io/library/`) and digests are stripped first so ordinary manifests resolve.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { builtinImages, distDir, imagesDir, type ImageEntry } from '../../images/builtin.js';

/** A resolved image: the command parts, its tag and where it came from. */
export interface ResolvedImage extends ImageEntry {
  name: string;
  tag: string;
  source: 'user' | 'builtin';
}

/** The on-disk catalog file. */
interface CatalogFile {
  images: Record<string, ImageEntry>;
}

/** Splits `registry/repo:tag@digest` into the catalog's name (no registry) and tag (default latest). */
export function parseImageRef(image: string): { name: string; tag: string } {
  let ref = image.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', slash + 1);
  let name = colon >= 0 ? ref.slice(0, colon) : ref;
  const tag = colon >= 0 ? ref.slice(colon + 1) : 'latest';
  name = name.replace(/^(docker\.io|registry-1\.docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
  return { name, tag };
}

/** The image catalog of one node (file under the agent's home). */
export class ImageCatalog {
  readonly file: string;

  constructor(home: string) {
    this.file = join(home, 'images.json');
  }

  private read(): CatalogFile {
    if (!existsSync(this.file)) return { images: {} };
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as CatalogFile;
      return v && typeof v.images === 'object' ? v : { images: {} };
    } catch (e) {
      throw new Error(`${this.file}: not a valid image catalog: ${(e as Error).message}`);
    }
  }

  private write(c: CatalogFile): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(c, null, 2) + '\n');
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** The command for `image`, or undefined when the catalog does not know it. */
  resolve(image: string): ResolvedImage | undefined {
    const { name, tag } = parseImageRef(image);
    const user = this.read().images;
    const hit = user[`${name}:${tag}`] ?? user[name];
    if (hit) return { ...hit, name, tag, source: 'user' };
    const b = builtinImages[name];
    if (!b) return undefined;
    const sub = (s: string) => s.replace('{node}', process.execPath).replace('{images}', imagesDir()).replace('{dist}', distDir());
    return { entrypoint: b.entrypoint.map(sub), cmd: b.cmd.map(sub), env: b.env, name, tag, source: 'builtin' };
  }

  /** `shoal image add NAME[:TAG] -- CMD ARGS…`: the command becomes the entrypoint. */
  add(ref: string, command: string[], env?: Record<string, string>): string {
    const problems: string[] = [];
    if (!/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?$/.test(ref)) problems.push(`image: invalid reference ${JSON.stringify(ref)}`);
    if (command.length === 0 || !command[0]) problems.push('command: Required value (shoal image add NAME[:TAG] -- CMD ARGS…)');
    if (problems.length) throw new Error(problems.join('; '));
    const key = ref.includes(':') ? ref : parseImageRef(ref).name;
    const c = this.read();
    c.images[key] = { entrypoint: command, cmd: [], ...(env ? { env } : {}) };
    this.write(c);
    return key;
  }

  /** Removes a user image; false when it was not there. Built-ins cannot be removed. */
  remove(ref: string): boolean {
    const c = this.read();
    if (!(ref in c.images)) return false;
    delete c.images[ref];
    this.write(c);
    return true;
  }

  /** Every image: user entries first, then built-ins not shadowed by them. */
  list(): { image: string; command: string[]; source: 'user' | 'builtin' }[] {
    const user = this.read().images;
    const out: { image: string; command: string[]; source: 'user' | 'builtin' }[] = Object.entries(user).map(([image, e]) => ({ image, command: [...e.entrypoint, ...e.cmd], source: 'user' }));
    for (const [image, e] of Object.entries(builtinImages)) {
      if (!(image in user)) out.push({ image, command: [...e.entrypoint, ...e.cmd], source: 'builtin' });
    }
    return out;
  }
}

/** Kubernetes' rule: `command` replaces the entrypoint (and drops CMD), `args` replaces CMD. */
export function containerArgv(img: ImageEntry, command?: string[], args?: string[]): string[] {
  if (command?.length) return [...command, ...(args ?? [])];
  return [...img.entrypoint, ...(args?.length ? args : img.cmd)];
}
