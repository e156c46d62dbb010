// One process holding several cluster components (group.ts); `shoal up` starts two of these.
import { runGroup } from './group.js';

process.exit(await runGroup(process.argv.slice(2)));
