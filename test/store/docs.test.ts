// Keeps control-plane/store/README.md honest: every StoreError code is documented in its Errors table,
// and the table documents no code that does not exist.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { storeErrorCodes } from '../../control-plane/store/types.js';

const readme = readFileSync(new URL('../../../control-plane/store/README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('\n## ', readme.indexOf('## Errors') + 1));
const documented = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);

t.same([...documented].sort(), [...storeErrorCodes].sort(), 'the README Errors table lists exactly the StoreError codes');
