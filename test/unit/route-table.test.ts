import { describe, expect, it } from 'vitest';
import { routeTable, type Route } from '../../dev/http/route-table.js';

type Row = Route<string, string>;
const echo =
  (name: string): Row[2] =>
  (params, context) =>
    `${name} ${JSON.stringify(params)} ${context}`;

describe('routeTable', () => {
  const lookup = routeTable<string, string>([
    ['GET', 'teams/{teamId}/channels/getAllMessages', echo('all')],
    ['GET', 'teams/{teamId}/channels/{channelId}', echo('channel')],
    ['GET', 'teams/{teamId}/channels/{channelId}/messages/{messageId?}', echo('messages')],
    ['POST', 'teams', echo('create')],
    ['*', 'teams/{*rest}', echo('other')],
  ]);

  it('answers with the first row whose method and template match, given its parameters and the context', () => {
    expect(lookup('GET', '/teams/t1/channels/getAllMessages')?.('ctx')).toBe('all {"teamId":"t1"} ctx');
    expect(lookup('GET', '/teams/t1/channels/general')?.('ctx')).toBe('channel {"teamId":"t1","channelId":"general"} ctx');
    expect(lookup('GET', '/teams/t1/channels/c%3A1/messages')?.('ctx')).toBe('messages {"teamId":"t1","channelId":"c:1"} ctx');
    expect(lookup('GET', '/teams/t1/channels/c1/messages/m1')?.('x')).toBe('messages {"teamId":"t1","channelId":"c1","messageId":"m1"} x');
  });

  it('skips a row of another method; * takes any method; the method is compared without regard to case', () => {
    expect(lookup('post', '/teams')?.('c')).toBe('create {} c');
    expect(lookup('DELETE', '/teams/t1/channels/getAllMessages')?.('c')).toBe('other {"rest":"t1/channels/getAllMessages"} c');
    expect(lookup('GET', '/teams/t1/channels/c1/messages/m1/extra')?.('c')).toBe('other {"rest":"t1/channels/c1/messages/m1/extra"} c');
  });

  it('finds nothing when no row matches', () => {
    expect(lookup('GET', '/chats/c1')).toBeUndefined();
    expect(routeTable<string, string>([])('GET', '/')).toBeUndefined();
  });
});
