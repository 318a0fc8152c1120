import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRoutingTable, RoutingTable } from '../../shared/route/routing-table.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';

const event = (over: Partial<TeamsCloudEvent>): TeamsCloudEvent => ({
  specversion: '1.0',
  id: 'e',
  source: '/tenants/t1',
  type: 'x',
  subject: "chats('19:a@thread.v2')/messages('1')",
  time: '2026-01-01T00:00:00Z',
  datacontenttype: 'application/json',
  tenantid: 't1',
  subscriptionid: 's1',
  changetype: 'created',
  kind: 'chatMessage',
  datamode: 'resource',
  ...over,
});

const dir = mkdtempSync(join(tmpdir(), 'tcr-routes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (content: unknown) => {
  const path = join(dir, `routes-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('RoutingTable', () => {
  it('sends each kind to its default queue', () => {
    const t = new RoutingTable();
    expect(t.route(event({ kind: 'chat' }))).toEqual({ action: 'send', queues: ['teams-chats'], rule: 'default' });
    expect(t.route(event({ kind: 'chatMember' }))).toMatchObject({ queues: ['teams-chat-members'] });
    expect(t.route(event({ kind: 'chatMessage' }))).toMatchObject({ queues: ['teams-chat-messages'] });
    expect(t.route(event({ kind: 'channelMessage' }))).toMatchObject({ queues: ['teams-channel-messages'] });
  });

  it('applies the first matching rule: fan-out, drop, and every condition', () => {
    const t = loadRoutingTable(
      file({
        routes: [
          { match: { resource: "chats('19:meeting_*')*" }, drop: true },
          { match: { kind: 'chatMessage', changeType: ['created', 'updated'], tenantId: 'T1' }, queues: ['archive', 'teams-chat-messages'] },
          { match: { subscriptionId: 's-crm' }, queues: ['crm'] },
        ],
      }),
    );
    expect(t.route(event({ subject: "chats('19:meeting_abc@thread.v2')/messages('1')" }))).toEqual({ action: 'drop', rule: 0 });
    expect(t.route(event({}))).toEqual({ action: 'send', queues: ['archive', 'teams-chat-messages'], rule: 1 });
    expect(t.route(event({ changetype: 'deleted' }))).toMatchObject({ rule: 'default' });
    expect(t.route(event({ tenantid: 't2' }))).toMatchObject({ rule: 'default' });
    expect(t.route(event({ kind: 'chat', subscriptionid: 's-crm' }))).toEqual({ action: 'send', queues: ['crm'], rule: 2 });
    expect(t.queues).toEqual(expect.arrayContaining(['archive', 'crm', 'teams-chats']));
  });

  it('has no route for an unmatched event when defaults are off', () => {
    const t = loadRoutingTable(file({ defaultRoutes: false, routes: [{ match: { kind: 'chat' }, queues: ['chats-only'] }] }));
    expect(t.route(event({ kind: 'chatMessage' }))).toEqual({ action: 'none' });
  });

  it('refuses invalid files with a message naming each mistake', () => {
    expect(() => loadRoutingTable(file('{ not json'))).toThrow(/could not be read as JSON/);
    expect(() => loadRoutingTable(join(dir, 'missing.json'))).toThrow(/could not be read/);
    const bad = () =>
      loadRoutingTable(
        file({
          routes: [
            { match: { kind: 'meeting' }, queues: ['q1x'] },
            { match: {}, queues: ['Bad_Queue'] },
            { match: {}, queues: ['ok-queue'], drop: true },
            { match: { colour: 'red' }, queues: ['ok-queue'] },
          ],
          extra: 1,
        }),
      );
    expect(bad).toThrow(/routes\[0\]\.match\.kind/);
    expect(bad).toThrow(/routes\[1\]\.queues\[0\]/);
    expect(bad).toThrow(/either "queues"/);
    expect(bad).toThrow(/colour/);
    expect(bad).toThrow(/extra/);
    const path = file({
      routes: [
        { match: {}, queues: ['ok-queue'] },
        { match: { kind: 'meeting' }, queues: ['ok-queue'] },
      ],
      extra: 1,
    });
    expect(() => loadRoutingTable(path)).toThrow(`ROUTES_FILE ${path} is invalid: routes[1].match.kind: Invalid input; (file): Unrecognized key: "extra"`);
    const list = file([]);
    expect(() => loadRoutingTable(list)).toThrow(`ROUTES_FILE ${list} is invalid: (file): Invalid input: expected object, received array`);
  });
});
