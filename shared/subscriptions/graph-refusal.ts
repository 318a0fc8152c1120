import type { GraphRequestError } from '../graph/graph-request-error.js';
import type { CatalogResource } from './resource-catalog.js';

/**
 * Why Graph refused (403) to create a Teams subscription. Graph words a quota as a limit ("The maximum number
 * of subscriptions … has been reached", "quota"); anything else is a matter of access: an application
 * permission not granted, protected-API access not approved. Only a quota can
 * be made room for by deleting one of our own subscriptions; an access refusal never is.
 */
export function isQuotaRefusal(e: GraphRequestError): boolean {
  return e.status === 403 && /quota|maximum number|limit of|already exists/i.test(e.message);
}

/**
 * What an access refusal lacks, by name, for status and logs: the permissions Graph's message names ("…one of
 * ('Chat.Read.All,Chat.ReadWrite.All') is missing"), else those the catalog lists for the resource; protected-API
 * approval when Graph's message says so. Graph's own message follows.
 */
export function describeAccessRefusal(e: GraphRequestError, resource: Pick<CatalogResource, 'permissions' | 'protectedApi'>): string {
  const named =
    /one of \(\s*'([^']*)'\s*\)/i
      .exec(e.message)?.[1]
      ?.split(',')
      .map((p) => p.trim())
      .filter(Boolean) ?? [];
  let lacks: string;
  if (named.length > 0) lacks = `missing application permission ${named.join(' or ')}`;
  else if (/protected api/i.test(e.message)) lacks = 'missing protected-API access for Teams messages (request it: https://aka.ms/teamsgraph/requestaccess)';
  else lacks = `access refused: needs application permission ${resource.permissions.join(' or ')}${resource.protectedApi ? ' and protected-API access' : ''}`;
  return `${lacks} (${e.message})`;
}
