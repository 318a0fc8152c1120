import { createRequire } from 'node:module';

/**
 * Microsoft's own Kusto language service (@kusto/language-service-next, the parser and binder behind Azure
 * Data Explorer's and Log Analytics' editors), loaded once: it defines the global `Kusto` namespace.
 */
interface KustoNamespace {
  Language: {
    Symbols: {
      TableSymbol: { From(schema: string): { WithName(name: string): unknown } };
      DatabaseSymbol: { $ctor1: new (name: string, tables: unknown[]) => unknown };
    };
    GlobalState: { Default: { WithDatabase(db: unknown): unknown } };
    KustoCode: { ParseAndAnalyze(text: string, globals: unknown): { GetDiagnostics(): { Count: number; getItem(i: number): { Severity: string; Message: string; Start: number } } } };
  };
}

let kusto: KustoNamespace | undefined;
function load(): KustoNamespace {
  if (!kusto) {
    const require = createRequire(import.meta.url);
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
    kusto = (globalThis as unknown as { Kusto: KustoNamespace }).Kusto;
  }
  return kusto;
}

/** A table's schema as Kusto writes it: `(timestamp:datetime, name:string, …)`. */
export type TableSchemas = Readonly<Record<string, string>>;

/** The errors and warnings Kusto finds in `query` against a database of these tables: unknown columns or functions, wrong types, syntax. */
export function kqlDiagnostics(query: string, tables: TableSchemas): string[] {
  const K = load().Language;
  const symbols = Object.entries(tables).map(([name, schema]) => K.Symbols.TableSymbol.From(schema).WithName(name));
  const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.$ctor1('db', symbols));
  const diagnostics = K.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics();
  return Array.from({ length: diagnostics.Count }, (_, i) => diagnostics.getItem(i)).map((d) => `${d.Severity} at ${d.Start}: ${d.Message}`);
}
