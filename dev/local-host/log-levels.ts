/** .NET log levels, lowest first, as host.json `logging.logLevel` names them. */
const LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'] as const;
export type HostLogLevel = (typeof LEVELS)[number];

function levelIndex(level: string): number {
  return LEVELS.indexOf(level.toLowerCase() as HostLogLevel);
}

/**
 * host.json `logging.logLevel` as the host applies it: each key is a category prefix (`Function`,
 * `Function.routeNotifications`, `Function.routeNotifications.User`, `Host.Results`, …), the longest prefix
 * of a log's category wins (case-insensitive), `default` covers the rest (Information when unset); a log
 * below its level is not written. A function's own logs have the category `Function.<name>.User`, the host's
 * line per invocation `Function.<name>`.
 */
export class LogLevels {
  readonly #rules: [prefix: string, min: number][];
  readonly #default: number;

  constructor(levels: Record<string, string> = {}) {
    let def = levelIndex('information');
    const rules: [string, number][] = [];
    for (const [key, value] of Object.entries(levels)) {
      if (key.toLowerCase() === 'default') def = levelIndex(value);
      else rules.push([key.toLowerCase(), levelIndex(value)]);
    }
    this.#rules = rules.sort((a, b) => b[0].length - a[0].length);
    this.#default = def;
  }

  /** Problems with a `logging.logLevel` object, for the start-up refusal. */
  static problems(levels: unknown): string[] {
    if (levels === undefined) return [];
    if (typeof levels !== 'object' || levels === null || Array.isArray(levels)) return ['logging.logLevel must be an object of category: level.'];
    return Object.entries(levels)
      .filter(([, v]) => typeof v !== 'string' || levelIndex(v) < 0)
      .map(([k, v]) => `logging.logLevel.${k} is "${String(v)}"; it must be one of Trace, Debug, Information, Warning, Error, Critical, None.`);
  }

  allows(category: string, level: HostLogLevel): boolean {
    const c = category.toLowerCase();
    const rule = this.#rules.find(([prefix]) => c.startsWith(prefix));
    const min = rule ? rule[1] : this.#default;
    return min < levelIndex('none') && levelIndex(level) >= min;
  }
}
