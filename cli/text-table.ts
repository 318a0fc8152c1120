/** A row of a text table: a value (or nothing) for each of its columns. */
export type TextRow<C extends string> = { readonly [K in C]?: string | number | boolean | null };

/** Rows as a plain-text table with a header and a rule, columns padded to their widest cell. */
export function textTable<C extends string>(rows: readonly TextRow<NoInfer<C>>[], columns: readonly C[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === undefined || r[c] === null ? '' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}
