#!/usr/bin/env node
// kube-apiserver-like process: see README.md. Flags: --home, --store, --bind-address, --secure-port,
// --advertise-address, --log-level. Exits 64 on bad configuration.
import { runApiServer } from './run.js';

process.exitCode = await runApiServer(process.argv.slice(2));
