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
    const name = /^[A-Za-z_$][\w$#]*/.exec(source.slice(at))?.[0];
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
    case 'concat':
      return all().flat();
    case 'union':
      return Object.assign({}, ...(all() as object[]));
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
    case 'filter': {
      const fn = arg(1) as Lambda;
      return (arg(0) as Value[]).filter((item) => evaluateNode(fn.body, scope, { ...lambdas, [fn.lambda]: item }));
    }
    case 'map': {
      const fn = arg(1) as Lambda;
      return (arg(0) as Value[]).map((item) => evaluateNode(fn.body, scope, { ...lambdas, [fn.lambda]: item }));
    }
    default:
      throw new Error(`ARM function ${node.name}() is not known to this evaluator.`);
  }
}

/** The value of `value`: an expression string "[…]" is evaluated, anything else returned as it is. */
export function evaluateArm(value: Value, scope: ArmScope): Value {
  if (typeof value !== 'string' || !value.startsWith('[') || value.startsWith('[[')) return value;
  return evaluateNode(parse(value.slice(1, -1)), scope, {});
}
