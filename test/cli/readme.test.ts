// Keeps the README honest: every `shoal COMMAND` it documents is a real command of the CLI, and every CLI
// command is documented in the README or cli/README.md.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands } from '../../cli/run.js';

const root = new URL('../../..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const cliReadme = readFileSync(join(root, 'cli', 'README.md'), 'utf8');

t.test('every documented shoal command exists', async (t) => {
  const names = new Set(commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]));
  const documented = new Set([...readme.matchAll(/`shoal ([a-z-]+)/g)].map((m) => m[1]!));
  t.ok(documented.size >= 10, `found ${documented.size} documented commands`);
  for (const d of documented) t.ok(names.has(d), `README documents "shoal ${d}", which the CLI has`);
});

t.test('every CLI command is documented', async (t) => {
  for (const c of commands) t.ok(readme.includes(`shoal ${c.name}`) || cliReadme.includes(`shoal ${c.name}`), `"shoal ${c.name}" is in the README`);
});
