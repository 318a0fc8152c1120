import { RelayError } from '../../shared/errors.js';
import { tokenExchangeScope } from '../../shared/graph/tenant-credentials.js';

/** A federated identity credential of an Entra app registration, as `az ad app federated-credential` shows and takes it. */
export interface FederatedCredential {
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
  readonly description?: string;
}

/** A name, principal id or issuer that no federated credential can hold. */
export class FederatedCredentialInputError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FEDERATED_CREDENTIAL_INPUT', message, options);
  }
}

/** The app registration's federated credentials stand in the way of the one wanted; the message names the fix. */
export class FederatedCredentialConflictError extends RelayError {
  constructor(message: string) {
    super('ERR_FEDERATED_CREDENTIAL_CONFLICT', message);
  }
}

/** What to do for the wanted credential: create it, or keep the one already there that trusts the same identity. */
export type FederatedCredentialPlan = { readonly action: 'create'; readonly credential: FederatedCredential } | { readonly action: 'keep'; readonly existing: FederatedCredential };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entra's rule for a federated credential's name: 3 to 120 letters, digits, hyphens and underscores, a letter or digit first. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;

/**
 * The federated credential by which the managed identity `principalId` (its object id, the `sub` of its tokens,
 * issued by `issuer`: the deployment's MANAGED_IDENTITY_ISSUER) signs in as the app registration. The audience is
 * the token exchange's of the issuer's cloud: the one the relay asks the identity's token for.
 */
export function federatedCredentialFor(name: string, issuer: string, principalId: string): FederatedCredential {
  if (!NAME.test(name)) throw new FederatedCredentialInputError(`"${name}" cannot name a federated credential: 3 to 120 letters, digits, - and _, a letter or digit first.`);
  if (!GUID.test(principalId)) throw new FederatedCredentialInputError(`"${principalId}" is not a principal (object) id: the identity's MANAGED_IDENTITY_PRINCIPAL_ID, a GUID.`);
  let url: URL;
  try {
    url = new URL(issuer);
  } catch (e) {
    throw new FederatedCredentialInputError(`"${issuer}" is not an issuer URL: the deployment's MANAGED_IDENTITY_ISSUER (https://login.microsoftonline.com/<tenant id>/v2.0).`, { cause: e });
  }
  if (url.protocol !== 'https:' || !/\/v2\.0$/.test(url.pathname))
    throw new FederatedCredentialInputError(`"${issuer}" is not an Entra v2.0 issuer: the deployment's MANAGED_IDENTITY_ISSUER (https://login.microsoftonline.com/<tenant id>/v2.0).`);
  const audience = tokenExchangeScope(url).replace(/\/\.default$/, '');
  return {
    name,
    issuer,
    subject: principalId.toLowerCase(),
    audiences: [audience],
    description: "The relay's function app signs in as this app with its managed identity (GRAPH_AUTH_MODE=federated).",
  };
}

const asList = (existing: unknown): FederatedCredential[] =>
  (Array.isArray(existing) ? existing : []).filter((c): c is FederatedCredential => typeof c === 'object' && c !== null && typeof (c as FederatedCredential).name === 'string');

/**
 * Compares the wanted credential with the app's own (`az ad app federated-credential list`): one trusting the same
 * identity (issuer and subject, whatever its name) for the audience is kept; one trusting it for another audience,
 * or one of the same name trusting another identity, is a conflict only its owner can settle (Entra allows one
 * credential per issuer and subject, and names are unique). Otherwise the wanted one is to be created.
 */
export function planFederatedCredential(appId: string, existing: unknown, wanted: FederatedCredential): FederatedCredentialPlan {
  const credentials = asList(existing);
  const deleteCommand = (name: string) => `az ad app federated-credential delete --id ${appId} --federated-credential-id ${name}`;
  const same = credentials.find((c) => c.issuer === wanted.issuer && String(c.subject).toLowerCase() === wanted.subject);
  if (same) {
    const audience = wanted.audiences[0] ?? '';
    if ((same.audiences ?? []).includes(audience)) return { action: 'keep', existing: same };
    throw new FederatedCredentialConflictError(
      `The app's federated credential ${same.name} trusts this identity for the audiences ${JSON.stringify(same.audiences ?? [])}, not ${audience}, which the relay's token carries: Entra refuses its token exchange (AADSTS700212). Delete it (${deleteCommand(same.name)}) and run this again.`,
    );
  }
  const named = credentials.find((c) => c.name.toLowerCase() === wanted.name.toLowerCase());
  if (named) {
    throw new FederatedCredentialConflictError(
      `The app's federated credential ${named.name} trusts another identity (subject ${named.subject}, issuer ${named.issuer}), not this deployment's (${wanted.subject}). If that identity is gone (the environment made again), delete it: ${deleteCommand(named.name)}; if it serves another deployment, give this one another name (--name).`,
    );
  }
  return { action: 'create', credential: wanted };
}
