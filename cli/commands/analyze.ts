// `shoal analyze [-n NS | -A]` (istioctl analyze): reads Services, ServiceEntries, VirtualServices,
// DestinationRules and HTTPRoutes with the API client and prints Istio's analyzer messages from the pure
// checks in control-plane/mesh/analyze/ (IST0109 conflicting mesh VirtualServices, IST0101 missing
// hosts/subsets/parents, IST0106 what admission would reject). Exit code 79 when an Error is reported
// (istioctl's "analyzers found issues"), 0 otherwise; Warnings alone keep 0 unless --failure-threshold Warning.
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { analyze, formatMessage, type AObject, type AnalysisMessage } from '../../control-plane/mesh/analyze/analyze.js';
import { allNamespacesFlag, type Command } from './command.js';

/** istioctl analyze's exit code when it found issues at or above the failure threshold. */
export const ISSUES_EXIT = 79;

const KINDS = {
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  virtualServices: { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true },
  destinationRules: { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true },
  serviceEntries: { apiVersion: 'networking.istio.io/v1', plural: 'serviceentries', namespaced: true },
  httpRoutes: { apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true },
} as const;

/** The report text (pure): one line per message, or istioctl's all-clear line. */
export function formatAnalysis(msgs: AnalysisMessage[], scope: string): string {
  if (msgs.length === 0) return `✔ No validation issues found when analyzing ${scope}.\n`;
  return msgs.map(formatMessage).join('\n') + '\n';
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: "Istio's analyzer checks across mesh objects (conflicting VirtualServices, missing subsets and hosts, bad weights)",
  usage: 'shoal analyze [-n NS | -A] [-o json] [--failure-threshold Error|Warning|Info]',
  flags: [
    allNamespacesFlag,
    { name: 'output', short: 'o', type: 'string', help: 'json for the messages', values: ['json'] },
    { name: 'failure-threshold', type: 'string', help: 'the lowest level that makes the exit code non-zero (default Error)', values: ['Error', 'Warning', 'Info'] },
  ],
  async run(ctx: Context, a: Parsed) {
    if (a.positionals.length) throw new CliError(`unexpected argument ${JSON.stringify(a.positionals[0])}: shoal analyze reads the cluster (-n NS or -A)`);
    const all = !!a.flags['all-namespaces'];
    const lists = await Promise.all(Object.entries(KINDS).map(async ([k, ref]) => {
      try {
        return [k, (await ctx.client.list(ref, {})).items as AObject[]] as const;
      } catch (e) {
        // A cluster without the Gateway API or Istio kinds: nothing of that kind to analyze.
        if ((e as { status?: { code?: number } }).status?.code === 404) return [k, [] as AObject[]] as const;
        throw e;
      }
    }));
    const objs = Object.fromEntries(lists) as Record<keyof typeof KINDS, AObject[]>;
    const msgs = analyze({ ...objs, ...(all ? {} : { namespaces: [ctx.namespace] }) });
    const scope = all ? 'all namespaces' : `namespace: ${ctx.namespace}`;
    if (a.flags.output === 'json') ctx.io.out(JSON.stringify(msgs, null, 2) + '\n');
    else ctx.io.out(formatAnalysis(msgs, scope));
    const threshold = (a.flags['failure-threshold'] as string | undefined) ?? 'Error';
    const rank: Record<string, number> = { Error: 0, Warning: 1, Info: 2 };
    return msgs.some((m) => rank[m.level] <= rank[threshold]) ? ISSUES_EXIT : 0;
  },
};
