import { compileRoute } from './route-template.js';

/**
 * One row of a route table: the HTTP method (`*` for any), the path template (route-template.ts: literal
 * segments, `{name}`, `{name?}`, `{*rest}`) and what answers it, given the template's parameters.
 */
export type Route<C, A> = readonly [method: string, template: string, handler: (params: Record<string, string>, context: C) => A];

/** The first route whose method and template match, bound to its parameters; undefined when none does. */
export type RouteLookup<C, A> = (method: string, path: string) => ((context: C) => A) | undefined;

/**
 * Compiles a route table once. Rows are tried in order, so a literal segment goes before a parameter in the
 * same place (`channels/getAllMessages` before `channels/{channelId}/…`), and a catch-all row goes last.
 */
export function routeTable<C, A>(routes: readonly Route<C, A>[]): RouteLookup<C, A> {
  const compiled = routes.map(([method, template, handler]) => ({ method: method.toUpperCase(), match: compileRoute(template), handler }));
  return (method, path) => {
    const wanted = method.toUpperCase();
    for (const route of compiled) {
      if (route.method !== '*' && route.method !== wanted) continue;
      const params = route.match(path);
      if (params) return (context) => route.handler(params, context);
    }
    return undefined;
  };
}
