import { createHash } from 'node:crypto';
/**
 * Evaluates an ARM template language expression ("[if(parameters('x'), …)]") for given parameters and
 * variables, so that a test can see what a compiled template deploys for a parameter's values without
 * deploying it. Only the functions the template uses are known; any other throws, so a test never passes on
 * an expression it could not read.
 */
type Value = unknown;
export interface ArmScope {
  readonly parameters: Record<string, Value>;
  /** A variable's value (its expression evaluated in the same scope, or a literal). */
  readonly variable: (name: string) => Value;
  /** `reference('<symbolic name>')`: what a deployed resource or module reports (its properties; a module's `outputs`). */
  readonly reference?: (name: string) => Value;
  /** `tenant()`, `environment()`, `subscription()`, `resourceGroup()`: the deployment's context. */
  readonly context?: Readonly<Record<string, Value>>;
  /** `copyIndex('<loop>')` inside a copy loop's input. */
  readonly copyIndex?: (loop: string) => number;
  /** The template's user-defined functions (`functions` of a compiled template: `__bicep.keyVaultReference`…). */
  readonly functions?: readonly UserFunctionNamespace[];
}

/** One namespace of a compiled template's `functions`. */
export interface UserFunctionNamespace {
  readonly namespace: string;
  readonly members: Readonly<Record<string, { readonly parameters?: readonly { readonly name: string }[]; readonly output: { readonly value: Value } }>>;
}

type Lambda = { readonly lambda: string; readonly body: Node };
type Node =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Node[] }
  | { readonly kind: 'member'; readonly target: Node; readonly key: Node };

function parse(source: string): Node {
  let at = 0;
  const skip = () => {
    while (source[at] === ' ') at++;
  };
  const expect = (c: string) => {
    skip();
    if (source[at] !== c) throw new SyntaxError(`Expected "${c}" at ${at} in ${source}`);
    at++;
  };
  const primary = (): Node => {
    skip();
    if (source[at] === "'") {
      let text = '';
      for (at++; ; at++) {
        if (source[at] === "'" && source[at + 1] === "'") text += source[at++];
        else if (source[at] === "'") break;
        else text += source[at];
      }
      at++;
      return { kind: 'literal', value: text };
    }
    const number = /^-?\d+/.exec(source.slice(at));
    if (number) {
      at += number[0].length;
      return { kind: 'literal', value: Number(number[0]) };
    }
    // A user-defined function is called by namespace and name: `__bicep.keyVaultReference(…)`.
    const name = /^[A-Za-z_$][\w$#]*(?:\.[A-Za-z_$][\w$#]*)?(?=\s*\()/.exec(source.slice(at))?.[0];
    if (!name) throw new SyntaxError(`Unexpected "${source[at]}" at ${at} in ${source}`);
    at += name.length;
    expect('(');
    const args: Node[] = [];
    skip();
    while (source[at] !== ')') {
      args.push(expression());
      skip();
      if (source[at] === ',') at++;
    }
    at++;
    return { kind: 'call', name, args };
  };
  const expression = (): Node => {
    let node = primary();
    for (;;) {
      skip();
      if (source[at] === '.') {
        at++;
        const key = /^[A-Za-z_$][\w$]*/.exec(source.slice(at))![0];
        at += key.length;
        node = { kind: 'member', target: node, key: { kind: 'literal', value: key } };
      } else if (source[at] === '[') {
        at++;
        const key = expression();
        expect(']');
        node = { kind: 'member', target: node, key };
      } else return node;
    }
  };
  const node = expression();
  skip();
  if (at !== source.length) throw new SyntaxError(`Trailing "${source.slice(at)}" in ${source}`);
  return node;
}

function evaluateNode(node: Node, scope: ArmScope, lambdas: Record<string, Value>): Value {
  if (node.kind === 'literal') return node.value;
  if (node.kind === 'member') return (evaluateNode(node.target, scope, lambdas) as Record<string, Value>)[String(evaluateNode(node.key, scope, lambdas))];
  const arg = (i: number) => evaluateNode(node.args[i]!, scope, lambdas);
  const all = () => node.args.map((_, i) => arg(i));
  switch (node.name) {
    case 'parameters':
      return scope.parameters[String(arg(0))];
    case 'variables':
      return scope.variable(String(arg(0)));
    case 'if':
      return arg(0) ? arg(1) : arg(2);
    case 'empty': {
      const v = arg(0);
      return v === null || v === undefined || v === '' || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);
    }
    case 'createArray':
      return all();
    case 'createObject': {
      const v = all();
      return Object.fromEntries(Array.from({ length: v.length / 2 }, (_, i) => [String(v[2 * i]), v[2 * i + 1]]));
    }
    case 'concat': {
      const v = all();
      return v.every((x) => typeof x === 'string') ? v.join('') : v.flat();
    }
    case 'union': {
      const v = all();
      return v.every(Array.isArray) ? [...new Set(v.flat())] : v.reduce<Record<string, Value>>((merged, o) => mergeObjects(merged, o as Record<string, Value>), {});
    }
    case 'format':
      return String(arg(0)).replace(/\{(\d+)\}/g, (_, i: string) => String(arg(Number(i) + 1)));
    case 'true':
      return true;
    case 'false':
      return false;
    case 'lambda':
      return { lambda: String(arg(0)), body: node.args[1]! } satisfies Lambda;
    case 'lambdaVariables':
      return lambdas[String(arg(0))];
    case 'split':
      return String(arg(0)).split(String(arg(1)));
    case 'trim':
      return String(arg(0)).trim();
    case 'not':
      return !arg(0);
    case 'or':
      return node.args.some((_, i) => arg(i));
    case 'and':
      return node.args.every((_, i) => arg(i));
    case 'filter': {
      const fn = arg(1) as Lambda;
      return (arg(0) as Value[]).filter((item) => evaluateNode(fn.body, scope, { ...lambdas, [fn.lambda]: item }));
    }
    case 'map': {
      const fn = arg(1) as Lambda;
      return (arg(0) as Value[]).map((item) => evaluateNode(fn.body, scope, { ...lambdas, [fn.lambda]: item }));
    }
    case 'reference':
      if (!scope.reference) throw new Error('reference() needs a scope that knows the deployed resources.');
      return scope.reference(String(arg(0)));
    case 'tenant':
    case 'environment':
    case 'subscription':
    case 'resourceGroup':
      if (!scope.context?.[node.name]) throw new Error(`${node.name}() needs a scope that knows the deployment's context.`);
      return scope.context[node.name];
    case 'resourceId': {
      // resourceId('<type>', '<name>'[, '<child name>']) in the deployment's resource group.
      const sub = (scope.context?.subscription as { subscriptionId?: string } | undefined)?.subscriptionId;
      const group = (scope.context?.resourceGroup as { name?: string } | undefined)?.name;
      if (!sub || !group) throw new Error("resourceId() needs a scope that knows the deployment's subscription and resource group.");
      // A child type's names interleave with its types: Microsoft.Storage/storageAccounts/<name>/blobServices/<name>.
      const [type = '', ...names] = all().map(String);
      const [namespace, ...types] = type.split('/');
      if (types.length !== names.length) throw new Error(`resourceId('${type}') needs ${types.length} names, not ${names.length}.`);
      return `/subscriptions/${sub}/resourceGroups/${group}/providers/${namespace}/${types.map((t, i) => `${t}/${names[i]}`).join('/')}`;
    }
    case 'string': {
      // As ARM writes them: a bool as True/False, a number in decimal, an object or array as JSON.
      const v = arg(0);
      return typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v);
    }
    case 'copyIndex':
      if (!scope.copyIndex) throw new Error('copyIndex() outside a copy loop.');
      // copyIndex() is the innermost loop's; copyIndex('<loop>') a named one's.
      return scope.copyIndex(node.args.length > 0 ? String(arg(0)) : '');
    case 'items':
      return Object.entries(arg(0) as Record<string, Value>).map(([key, value]) => ({ key, value }));
    case 'range': {
      const start = Number(arg(0));
      return Array.from({ length: Math.max(0, Number(arg(1))) }, (_, i) => start + i);
    }
    case 'length': {
      const v = arg(0);
      return typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v as object).length;
    }
    case 'sub':
      return Number(arg(0)) - Number(arg(1));
    case 'add':
      return Number(arg(0)) + Number(arg(1));
    case 'take': {
      const v = arg(0);
      return typeof v === 'string' || Array.isArray(v) ? v.slice(0, Number(arg(1))) : v;
    }
    case 'uniqueString':
      // Deterministic and 13 characters of [a-z0-9] as ARM's; not ARM's own hash (names need not match Azure's).
      return BigInt('0x' + createHash('sha256').update(all().join('-')).digest('hex').slice(0, 16))
        .toString(32)
        .padStart(13, '0')
        .slice(0, 13);
    case 'equals':
      return JSON.stringify(arg(0)) === JSON.stringify(arg(1));
    case 'less':
      return compare(arg(0), arg(1)) < 0;
    case 'lessOrEquals':
      return compare(arg(0), arg(1)) <= 0;
    case 'greater':
      return compare(arg(0), arg(1)) > 0;
    case 'greaterOrEquals':
      return compare(arg(0), arg(1)) >= 0;
    case 'endsWith':
      return String(arg(0))
        .toLowerCase()
        .endsWith(String(arg(1)).toLowerCase());
    case 'replace':
      return String(arg(0))
        .split(String(arg(1)))
        .join(String(arg(2)));
    case 'skip': {
      const v = arg(0);
      return typeof v === 'string' || Array.isArray(v) ? v.slice(Math.max(0, Number(arg(1)))) : v;
    }
    case 'null':
      return null;
    case 'cidrSubnet':
      return cidrSubnet(String(arg(0)), Number(arg(1)), Number(arg(2)));
    case 'toLower':
      return String(arg(0)).toLowerCase();
    default: {
      const dot = node.name.indexOf('.');
      const fn = dot > 0 ? scope.functions?.find((f) => f.namespace === node.name.slice(0, dot))?.members[node.name.slice(dot + 1)] : undefined;
      if (!fn) throw new Error(`ARM function ${node.name}() is not known to this evaluator.`);
      // A user function sees its own arguments as parameters(), and nothing of the caller's scope.
      const parameters = Object.fromEntries((fn.parameters ?? []).map((p, i) => [p.name, arg(i)]));
      return evaluateArm(fn.output.value, { parameters, variable: () => undefined, ...(scope.functions ? { functions: scope.functions } : {}) });
    }
  }
}

/** The value of `value`: an expression string "[…]" is evaluated, anything else returned as it is. */
export function evaluateArm(value: Value, scope: ArmScope): Value {
  if (typeof value !== 'string' || !value.startsWith('[') || value.startsWith('[[')) return value;
  return evaluateNode(parse(value.slice(1, -1)), scope, {});
}

/** ARM's cidrSubnet for IPv4: the `index`-th range of prefix length `length` inside `network`. */
function cidrSubnet(network: string, length: number, index: number): string {
  const [address, prefix] = network.split('/');
  const octets = (address ?? '').split('.').map(Number);
  const bits = Number(prefix);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(bits >= 0 && bits <= length && length <= 32)) throw new Error(`cidrSubnet cannot split ${network} into /${length}.`);
  if (index < 0 || index >= 2 ** (length - bits)) throw new Error(`cidrSubnet: ${network} has no /${length} number ${index}.`);
  const base = octets.reduce((n, o) => n * 256 + o, 0);
  const start = Math.floor(base / 2 ** (32 - bits)) * 2 ** (32 - bits) + index * 2 ** (32 - length);
  return `${[24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join('.')}/${length}`;
}

/** ARM's comparison (less, greater…): two numbers, or two strings in ordinal order; anything else is an error. */
function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`ARM cannot compare ${JSON.stringify(a)} with ${JSON.stringify(b)}.`);
}

/** ARM's union of objects: later properties win, and objects present in both are merged in turn. */
function mergeObjects(a: Record<string, Value>, b: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const before = out[k];
    const bothObjects = [before, v].every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
    out[k] = bothObjects ? mergeObjects(before as Record<string, Value>, v as Record<string, Value>) : v;
  }
  return out;
}
