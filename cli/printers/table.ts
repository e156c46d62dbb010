// Printing a meta.k8s.io/v1 Table the way `kubectl get` does: upper-case headers, columns of priority > 0
// only with `-o wide`, a NAMESPACE column first with `-A`, `kind/name` names when several kinds are shown,
// and alignment by Go's tabwriter with kubectl's settings (min width 6, padding 3, last column unpadded).

import type { Table } from '../../api/client/client.js';

/** How to print a Table. */
export interface TableOptions {
  wide?: boolean;
  withNamespace?: boolean;
  noHeaders?: boolean;
  /** prefix names with `<kind>/` (kubectl does when several kinds are printed) */
  kindPrefix?: string;
  showLabels?: boolean;
}

const MIN_WIDTH = 6;
const PADDING = 3;

/** A cell as kubectl prints it: nothing for null, first line only for multi-line strings. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.split(/[\r\n\f]/)[0]!;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The header and rows of a Table as text cells, columns chosen by the options. */
export function tableCells(t: Table, o: TableOptions = {}): { header: string[]; rows: string[][] } {
  const cols = (t.columnDefinitions ?? []).map((c, i) => ({ c, i })).filter(({ c }) => o.wide || c.priority === 0);
  const header = cols.map(({ c }) => c.name.toUpperCase());
  if (o.withNamespace) header.unshift('NAMESPACE');
  if (o.showLabels) header.push('LABELS');
  const rows = (t.rows ?? []).map((r) => {
    const cells = cols.map(({ c, i }) => {
      const text = cellText(r.cells[i]);
      return c.format === 'name' && o.kindPrefix ? `${o.kindPrefix}/${text}` : text;
    });
    if (o.withNamespace) cells.unshift(r.object?.metadata?.namespace ?? '');
    if (o.showLabels) cells.push(labelsText(r.object?.metadata?.labels));
    return cells;
  });
  return { header, rows };
}

function labelsText(l: Record<string, string> | undefined): string {
  const e = Object.entries(l ?? {});
  return e.length ? e.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

/** Column widths (tabwriter cells: text + padding, at least the minimum) of every column but the last. */
export function columnWidths(lines: string[][], prev: number[] = [], pad = { minWidth: MIN_WIDTH, padding: PADDING }): number[] {
  const widths = [...prev];
  for (const line of lines)
    for (let i = 0; i < line.length - 1; i++) widths[i] = Math.max(widths[i] ?? pad.minWidth, line[i]!.length + pad.padding, pad.minWidth);
  return widths;
}

/** Lines aligned with `widths`, each ending in a newline. */
export function alignLines(lines: string[][], widths: number[]): string {
  return lines.map((cells) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i] ?? MIN_WIDTH) : c)).join('') + '\n').join('');
}

/** The whole Table as text (header unless noHeaders). */
export function formatTable(t: Table, o: TableOptions = {}): string {
  const { header, rows } = tableCells(t, o);
  const lines = o.noHeaders ? rows : [header, ...rows];
  return alignLines(lines, columnWidths(lines));
}

/** Align plain rows of text: api-resources (kubectl's get settings), or describe's (no minimum, padding 2). */
export function formatRows(header: string[] | undefined, rows: string[][], style: 'get' | 'describe' = 'get'): string {
  const lines = header ? [header, ...rows] : rows;
  return alignLines(lines, columnWidths(lines, [], style === 'describe' ? { minWidth: 0, padding: 2 } : undefined));
}
