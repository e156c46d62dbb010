// Fakes of the host seams for unit tests: FakeRunner records every command (with its stdin) and answers
// from rules; FakeHost adds an in-memory /proc/sys. The nftables engine's fake is a FakeRunner too:
// `runner.inputs('nft')` are the transactions that were sent, and a rule can make the next one fail.

import type { RunOptions, RunResult, Runner } from './run.js';
import type { Host } from './sysctl.js';

/** One recorded command. */
export interface RunCall {
  cmd: string;
  args: string[];
  input: string;
  /** `cmd args…` on one line, for matching */
  line: string;
}

/** An answer: a result, or a function of the call. */
export type Reply = Partial<RunResult> | ((call: RunCall) => Partial<RunResult>);

/** Records commands and answers from rules (first match wins; default: code 0, empty output). */
export class FakeRunner implements Runner {
  readonly calls: RunCall[] = [];
  private rules: { match: RegExp; reply: Reply; times: number }[] = [];

  /** Answers commands whose line matches `match` with `reply`, `times` times (default: always). */
  on(match: RegExp, reply: Reply, times = Infinity): this {
    this.rules.push({ match, reply, times });
    return this;
  }

  /** Makes matching commands exit `code` with `stderr`. */
  fail(match: RegExp, stderr = 'failed', code = 1, times = Infinity): this {
    return this.on(match, { code, stderr }, times);
  }

  /** Forgets all rules. */
  reset(): void {
    this.rules = [];
  }

  async run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const call: RunCall = { cmd, args: [...args], input: opts.input === undefined ? '' : String(opts.input), line: [cmd, ...args].join(' ') };
    this.calls.push(call);
    const rule = this.rules.find((r) => r.times > 0 && r.match.test(call.line));
    if (!rule) return { code: 0, stdout: '', stderr: '' };
    rule.times--;
    const r = typeof rule.reply === 'function' ? rule.reply(call) : rule.reply;
    return { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.startError ? { startError: r.startError } : {}) };
  }

  /** The stdin of every call of `cmd` (for `nft`: the transactions sent). */
  inputs(cmd: string): string[] {
    return this.calls.filter((c) => c.cmd === cmd).map((c) => c.input);
  }

  /** The command lines run so far. */
  lines(): string[] {
    return this.calls.map((c) => c.line);
  }
}

/** A FakeRunner with an in-memory /proc/sys. */
export class FakeHost extends FakeRunner implements Host {
  readonly sysctls = new Map<string, string>();

  constructor(sysctls: Record<string, string> = {}) {
    super();
    for (const [k, v] of Object.entries(sysctls)) this.sysctls.set(k, v);
  }

  readSysctl(name: string): string | undefined {
    return this.sysctls.get(name);
  }

  writeSysctl(name: string, value: string): void {
    this.sysctls.set(name, value);
  }
}
