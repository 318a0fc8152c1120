/**
 * Functions route templates: literal segments, `{name}`, `{name?}`, `{name:constraint}` and a catch-all
 * `{*name}`. Literals match case-insensitively, as in ASP.NET routing. Constraints other than `int`,
 * `alpha`, `guid` are accepted and not enforced.
 */
export type RouteMatcher = (path: string) => Record<string, string> | undefined;

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  alpha: /^[a-z]+$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
};

export function compileRoute(template: string): RouteMatcher {
  const segments = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s.length > 0);
  return (path) => {
    const parts = path
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .filter((s) => s.length > 0);
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i] as string;
      const param = /^\{(\*)?([A-Za-z_][\w]*)(?::([^}?]+))?(\?)?\}$/.exec(seg);
      if (!param) {
        if (parts[i]?.toLowerCase() !== seg.toLowerCase()) return undefined;
        continue;
      }
      const [, catchAll, name = '', constraint, optional] = param;
      if (catchAll) {
        params[name] = parts.slice(i).map(decodeURIComponent).join('/');
        return params;
      }
      const value = parts[i];
      if (value === undefined) {
        if (optional) continue;
        return undefined;
      }
      const decoded = decodeURIComponent(value);
      const check = constraint ? CONSTRAINTS[constraint.toLowerCase()] : undefined;
      if (check && !check.test(decoded)) return undefined;
      params[name] = decoded;
    }
    return parts.length <= segments.length ? params : undefined;
  };
}
