// `shoal edit KIND NAME | KIND/NAME`: writes the object as YAML to a temp file, runs $EDITOR (default vi),
// and sends the result as an update (PUT, with the resourceVersion read, so a concurrent change is a
// Conflict rather than a lost write). On failure the file is reopened with the error at the top; saving
// it unchanged gives up, as kubectl does. No change at all: "Edit cancelled, no changes made."

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { KubeObject } from '../../api/meta.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError, formatError } from '../errors.js';
import { toYaml, withoutManagedFields } from '../printers/objects.js';
import { deepEqual } from '../apply/three-way.js';
import { yamlMessage } from '../manifest/load.js';
import { kindLabel, resolveResourceArgs } from '../resources.js';
import type { Command } from './command.js';

const HEADER = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
`;

/** Remove comment lines; kubectl ignores them. */
export function stripComments(text: string): string {
  return text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
}

/** Parse the edited text; errors name the line and column in the file the user saw. */
export function parseEdited(text: string): KubeObject | null {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const lp = err.linePos?.[0];
    throw new CliError(`error parsing edited file: ${lp ? `line ${lp.line}, column ${lp.col}: ` : ''}${yamlMessage(err.message)}`);
  }
  const v = doc.toJS();
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new CliError('error parsing edited file: expected an object');
  return v as KubeObject;
}

export const editCommand: Command = {
  name: 'edit',
  summary: 'Edit a resource in $EDITOR and save it to the server',
  usage: 'shoal edit KIND NAME | KIND/NAME   (EDITOR or SHOAL_EDITOR picks the editor; default vi)',
  flags: [],
  async run(ctx: Context, a: Parsed) {
    const targets = await resolveResourceArgs(ctx.client, a.positionals);
    if (targets.length !== 1 || targets[0]!.names.length !== 1) throw new CliError('edit needs exactly one object: KIND NAME or KIND/NAME', 64);
    const { resource, names } = targets[0]!;
    const name = names[0]!;
    const ns = resource.namespaced ? ctx.namespace : '';
    const original = withoutManagedFields(await ctx.client.get(resource, name, { namespace: ns }));
    const editor = ctx.io.env.SHOAL_EDITOR || ctx.io.env.KUBE_EDITOR || ctx.io.env.EDITOR || 'vi';
    const dir = mkdtempSync(join(tmpdir(), 'shoal-edit-'));
    const file = join(dir, `${kindLabel(resource)}-${name}.yaml`);
    try {
      let presented = HEADER + toYaml(original);
      let errorShown: string | undefined;
      for (;;) {
        writeFileSync(file, presented);
        const code = await ctx.io.runEditor(editor, file);
        if (code !== 0) throw new CliError(`there was a problem with the editor ${JSON.stringify(editor)}: exit status ${code}`);
        const edited = readFileSync(file, 'utf8');
        if (errorShown && edited === presented) {
          ctx.io.err(`${errorShown}\n`);
          throw new CliError('Edit cancelled, no valid changes were saved.');
        }
        const body = stripComments(edited);
        if (body.trim() === '') {
          ctx.io.err('Edit cancelled, saved file was empty.\n');
          return 0;
        }
        let obj: KubeObject | null;
        try {
          obj = parseEdited(body);
          if (!obj) throw new CliError('error parsing edited file: empty document');
          if (deepEqual(obj, original)) {
            ctx.io.err('Edit cancelled, no changes made.\n');
            return 0;
          }
          await ctx.client.update(resource, obj, { namespace: ns });
          ctx.io.out(`${kindLabel(resource)}/${name} edited\n`);
          return 0;
        } catch (e) {
          errorShown = e instanceof CliError ? `error: ${e.message}` : formatError(e);
          const commented = errorShown.split('\n').map((l) => `# ${l}`).join('\n');
          presented = `${HEADER}${commented}\n#\n${stripComments(edited).replace(/^\n+/, '')}`;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
