import type { CatalogEntry } from '../kinds/catalog-entry.js';
import { KIND_NAMES, TEAMS_KINDS, type ResourceKind } from '../kinds/teams-kinds.js';

export { TEAMS_MAX_MINUTES } from '../kinds/catalog-entry.js';

/** A Teams resource the app can subscribe to, with Graph's rules for it, and its kind. */
export interface CatalogResource extends CatalogEntry {
  readonly kind: ResourceKind;
}

/**
 * The Teams resources the app can subscribe to: every kind's catalog (shared/kinds/). One table: the
 * desired-subscriptions file is checked against it, and lifetimes come from it.
 */
export const RESOURCE_CATALOG: readonly CatalogResource[] = KIND_NAMES.flatMap((kind) => TEAMS_KINDS[kind].catalog.map((entry) => ({ ...entry, kind })));

export interface ResourceCheck {
  readonly entry?: CatalogResource;
  readonly model?: 'A' | 'B';
  readonly problems: string[];
}

/** Checks one subscription resource (path and query) against the catalog. */
export function checkResource(resource: string, version: 'v1.0' | 'beta'): ResourceCheck {
  const [path = '', query = ''] = resource.split('?', 2);
  const entry = RESOURCE_CATALOG.find((e) => e.pattern.test(path));
  if (!entry) return { problems: [`"${resource}" is not a Teams chat, membership or message resource Graph notifies about`] };
  const problems: string[] = [];
  if (entry.betaOnly && version !== 'beta') problems.push(`"${path}" exists only on the beta endpoint: set "version": "beta"`);
  if (entry.userContextOnly) problems.push(`"${path}" needs a signed-in user; this app subscribes with application permissions`);
  let model: 'A' | 'B' | undefined;
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === 'model') {
      if (value !== 'A' && value !== 'B') problems.push(`model=${value} is not a payment model (A or B)`);
      else if (!entry.models.includes(value)) problems.push(entry.models.length ? `"${path}" takes model=${entry.models.join(' or model=')} only` : `"${path}" takes no payment model`);
      else model = value;
    } else if (key === 'notifyOnUserSpecificProperties') {
      if (!entry.queryOptions.includes(key)) problems.push(`"${path}" does not take notifyOnUserSpecificProperties`);
      else if (value === 'true') problems.push('notifyOnUserSpecificProperties=true needs a signed-in user; this app subscribes with application permissions');
    } else if (!entry.queryOptions.includes(key)) {
      problems.push(`"${path}" does not take the query option ${key}`);
    } else if (key === '$filter' && !/^mentions\/any\(\s*(\w+)\s*:\s*\1\/mentioned\/user\/id\s+eq\s+'[^']+'\s*\)$/.test(value.trim())) {
      problems.push(`$filter supports only mentions/any(u: u/mentioned/user/id eq '{user-id}')`);
    }
  }
  return { entry, ...(model ? { model } : {}), problems };
}
