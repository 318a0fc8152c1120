import type { SignedInPrincipal } from './signed-in-principal.js';

/** What one tool (az or azd) is signed in as, and the subscription it acts on. */
export interface ToolLogin {
  readonly tool: 'az' | 'azd';
  readonly principal: SignedInPrincipal;
  /** The subscription the tool's next command acts on (az: its default; azd: the environment's AZURE_SUBSCRIPTION_ID). */
  readonly subscriptionId: string | undefined;
}

export interface LoginComparison {
  readonly same: boolean;
  /** Each difference, with the command that removes it. */
  readonly problems: readonly string[];
}

/**
 * docs/deploy.md mixes azd (provision, deploy) and az (keys, secrets, roles): both must act as the same account on
 * the same subscription, or the vault roles azd's principal received are not the ones az's steps use, and az's
 * steps land in another subscription.
 */
export function compareLogins(az: ToolLogin, azd: ToolLogin): LoginComparison {
  const problems: string[] = [];
  if (!azd.subscriptionId) problems.push('azd names no subscription (AZURE_SUBSCRIPTION_ID): run azd env new, or azd env set AZURE_SUBSCRIPTION_ID <id>.');
  else if (az.subscriptionId?.toLowerCase() !== azd.subscriptionId.toLowerCase()) {
    problems.push(`az acts on subscription ${az.subscriptionId ?? '(none)'}, azd's environment on ${azd.subscriptionId}: az account set --subscription ${azd.subscriptionId}`);
  }
  if (az.principal.tenantId && azd.principal.tenantId && az.principal.tenantId !== azd.principal.tenantId) {
    problems.push(`az is signed in to tenant ${az.principal.tenantId}, azd to ${azd.principal.tenantId}: sign both in to the same tenant (az login --tenant …, azd auth login --tenant-id …).`);
  }
  if (az.principal.objectId !== azd.principal.objectId) {
    const who = (l: ToolLogin) => `${l.principal.name ?? l.principal.type} (object id ${l.principal.objectId})`;
    problems.push(`az is signed in as ${who(az)}, azd as ${who(azd)}: sign both in as the same account (az login, azd auth login).`);
  }
  return { same: problems.length === 0, problems };
}
