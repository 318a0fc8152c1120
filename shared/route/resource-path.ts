import type { ResourceIds } from '../kinds/teams-kinds.js';

export type { ResourceIds, ResourceKind } from '../kinds/teams-kinds.js';

/**
 * The ids in a notification's `resource`, such as `chats('19:…@thread.v2')/messages('1612289765949')`,
 * `chats('…')/members('MCMj…')`, `teams('…')/channels('19:…@thread.tacv2')/messages('…')/replies('…')`
 * (segment names compared case-insensitively; the `/chats/{id}/messages/{id}` form is read too).
 */
function segments(resource: string): [string, string | undefined][] {
  const path =
    resource
      .replace(/^https?:\/\/[^/]+\/(?:v1\.0|beta)\//i, '')
      .replace(/^\/+/, '')
      .split('?')[0] ?? '';
  const out: [string, string | undefined][] = [];
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
  const slash: [string, string | undefined][] = [];
  for (let i = 0; i < parts.length; i += 2) slash.push([parts[i]?.toLowerCase() ?? '', parts[i + 1]]);
  return slash;
}

/** Parses a notification resource, or returns undefined for one that is not a Teams chat, member or message. */
export function parseResourcePath(resource: string): ResourceIds | undefined {
  const s = segments(resource);
  const [first, second, third, fourth] = s;
  if (first?.[0] === 'chats' && first[1]) {
    const chatId = first[1];
    if (!second) return { kind: 'chat', chatId };
    if (second[0] === 'members' && second[1] && !third) return { kind: 'chatMember', chatId, memberId: second[1] };
    if (second[0] === 'messages' && second[1]) {
      if (!third) return { kind: 'chatMessage', chatId, messageId: second[1] };
      if (third[0] === 'replies' && third[1] && !fourth) return { kind: 'chatMessage', chatId, messageId: third[1], parentMessageId: second[1] };
    }
    return undefined;
  }
  if (first?.[0] === 'teams' && first[1] && second?.[0] === 'channels' && second[1] && third?.[0] === 'messages' && third[1]) {
    const base = { kind: 'channelMessage' as const, teamId: first[1], channelId: second[1] };
    if (!fourth) return { ...base, messageId: third[1] };
    if (fourth[0] === 'replies' && fourth[1] && s.length === 4) return { ...base, messageId: fourth[1], parentMessageId: third[1] };
  }
  return undefined;
}
