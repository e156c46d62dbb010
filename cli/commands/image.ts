// `shoal image add NAME[:TAG] -- CMD ARGS…`, `shoal image list`, `shoal image rm NAME[:TAG]`: the node's
// local image catalog (image name → command), read by the node agent when it starts containers.

import { homeDir } from '../../lib/defaults/defaults.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { Command } from './command.js';
import { ImageCatalog } from '../../node/agent/images/catalog.js';

export const imageCommand: Command = {
  name: 'image',
  summary: "Manage the node's image catalog: add NAME[:TAG] -- CMD ARGS..., list, rm NAME[:TAG]",
  usage: 'shoal image (add NAME[:TAG] -- CMD [ARGS...] | list | rm NAME[:TAG]) [--home DIR]',
  flags: [],
  async run(ctx: Context, a: Parsed) {
    const home = homeDir(ctx.global.home, ctx.io.env);
    const catalog = new ImageCatalog(home);
    const [sub, ref, ...command] = a.positionals;
    if (sub === 'list') {
      const rows = catalog.list();
      const w = Math.max(5, ...rows.map((r) => r.image.length)) + 3;
      ctx.io.out(`${'IMAGE'.padEnd(w)}${'SOURCE'.padEnd(10)}COMMAND\n`);
      for (const r of rows) ctx.io.out(`${r.image.padEnd(w)}${r.source.padEnd(10)}${r.command.join(' ')}\n`);
      return 0;
    }
    if (sub === 'add') {
      if (!ref || !command.length) throw new CliError('usage: shoal image add NAME[:TAG] -- COMMAND [ARGS...]', 64);
      ctx.io.out(`image ${catalog.add(ref, command)} added\n`);
      return 0;
    }
    if (sub === 'rm') {
      if (!ref) throw new CliError('usage: shoal image rm NAME[:TAG]', 64);
      if (!catalog.remove(ref)) throw new CliError(`image ${ref} is not in the catalog (built-in images cannot be removed)`);
      ctx.io.out(`image ${ref} removed\n`);
      return 0;
    }
    throw new CliError(`unknown image subcommand ${JSON.stringify(sub ?? '')}: one of add, list, rm`, 64);
  },
};
