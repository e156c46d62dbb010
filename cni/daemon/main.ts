// `shoal-cni-daemon [--socket PATH]`: runs the CNI daemon alone (the node agent embeds it later).
// The socket comes from --socket, else SHOAL_CNI_SOCKET, else /run/shoal/cni.sock.

import { runDaemon } from '../cli.js';

process.exitCode = await runDaemon(process.argv.slice(2));
