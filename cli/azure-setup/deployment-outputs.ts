import { RelayError } from '../../shared/errors.js';

/** A deployment's outputs cannot be written as the environment file wants them. */
export class DeploymentOutputsError extends RelayError {
  constructor(message: string) {
    super('ERR_DEPLOYMENT_OUTPUTS', message);
  }
}

/**
 * A deployment's outputs (`az deployment group show --query properties.outputs -o json`) as environment-file
 * lines, `NAME="value"`, as azd keeps them in its own: names upper-cased (Resource Manager has answered
 * all-capital output names in other casings, which is why azd matches them without regard to case), and refused
 * when an expected one is missing or empty, rather than written empty for a later step to fail on.
 */
export function outputsAsEnvLines(outputs: unknown, expected: readonly string[]): string[] {
  if (typeof outputs !== 'object' || outputs === null) throw new DeploymentOutputsError('the deployment has no outputs: did it succeed (az deployment group show)?');
  const values = new Map<string, string>();
  for (const [name, output] of Object.entries(outputs as Record<string, { value?: unknown }>)) {
    const value = output?.value;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values.set(name.toUpperCase(), String(value));
  }
  const missing = expected.filter((name) => !values.get(name.toUpperCase()));
  if (missing.length > 0) throw new DeploymentOutputsError(`the deployment's outputs lack ${missing.join(', ')}: is it this template's deployment?`);
  return [...values.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => `${name}="${value.replace(/["\\$`]/g, (c) => `\\${c}`)}"`);
}
