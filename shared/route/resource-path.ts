import { KIND_NAMES, TEAMS_KINDS, type ResourceIds } from '../kinds/teams-kinds.js';

import type { Segment } from '../kinds/teams-kind.js';

export type { ResourceIds, ResourceKind } from '../kinds/teams-kinds.js';

/**
 * The ids in a notification's `resource`, such as `chats('19:…@thread.v2')/messages('1612289765949')`,
 * `chats('…')/members('MCMj…')`, `teams('…')/channels('19:…@thread.tacv2')/messages('…')/replies('…')`
 * (segment names compared case-insensitively; the `/chats/{id}/messages/{id}` form is read too).
 */
function segments(resource: string): Segment[] {
  const path =
    resource
      .replace(/^https?:\/\/[^/]+\/(?:v1\.0|beta)\//i, '')
      .replace(/^\/+/, '')
      .split('?')[0] ?? '';
  const out: Segment[] = [];
  const paren = /([A-Za-z]+)(?:\('((?:[^']|'')*)'\))?\/?/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = paren.exec(path)) !== null && m[0].length > 0) {
    out.push([m[1]?.toLowerCase() ?? '', m[2]?.replace(/''/g, "'")]);
    consumed = paren.lastIndex;
  }
  if (consumed === path.length && out.some(([, id]) => id !== undefined)) return out;
  // Slash form: name/id/name/id…
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return []; // an invalid percent-escape: not a resource we know
  }
  const slash: Segment[] = [];
  for (let i = 0; i < parts.length; i += 2) slash.push([parts[i]?.toLowerCase() ?? '', parts[i + 1]]);
  return slash;
}

/** Parses a notification resource, or returns undefined for one that is not a Teams chat, member or message (of no kind in the registry). */
export function parseResourcePath(resource: string): ResourceIds | undefined {
  const s = segments(resource);
  for (const kind of KIND_NAMES) {
    const ids = TEAMS_KINDS[kind].parse(s);
    if (ids) return ids;
  }
  return undefined;
}
