#!/usr/bin/env node
// `shoal`: the command line for a Shoal cluster (see README.md). Parses nothing itself: hands argv and the
// process's I/O to the dispatcher and exits with its code (0 ok, 1 failure, 64 bad usage).
import { runCli } from './run.js';
import { processIo } from './context.js';

process.exitCode = await runCli(process.argv.slice(2), processIo());
