import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { changeNotificationSchema } from '../../shared/protocol/notification.js';
import { buildTeamsEvent } from '../../shared/route/teams-event.js';

/** docs/teams-event.schema.json is the contract: every event the app builds must satisfy it. */
const schema = JSON.parse(readFileSync(new URL('../../docs/teams-event.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(schema);

const CHAT = '19:2da4c29f6d7041eca70b638b43d45437@thread.v2';
const cases: [string, string, Record<string, unknown> | undefined][] = [
  [`chats('${CHAT}')`, 'created', { id: CHAT, lastUpdatedDateTime: '2026-11-22T09:00:00Z' }],
  [`chats('${CHAT}')`, 'updated', { id: CHAT, viewpoint: { isHidden: true } }],
  [`chats('${CHAT}')/members('M1')`, 'deleted', { id: 'M1', userId: 'u' }],
  [`chats('${CHAT}')/messages('1')`, 'updated', { id: '1', etag: '1', lastModifiedDateTime: '2026-11-22T09:00:00Z' }],
  [`chats('${CHAT}')/messages('1')`, 'created', undefined],
  ["teams('t')/channels('c')/messages('1')/replies('2')", 'deleted', { id: '2', etag: '2', deletedDateTime: '2026-11-22T09:00:00Z' }],
];

describe('docs/teams-event.schema.json', () => {
  it.each(cases)('accepts the event built for %s %s', (resource, changeType, data) => {
    const notification = changeNotificationSchema.parse({ id: 'n1', subscriptionId: 's', tenantId: 't', changeType, resource, resourceData: { id: 'x' } });
    const { event } = buildTeamsEvent(notification, data, '2026-11-22T10:00:00.000Z', 'delivery-1');
    expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    const { data: _d, ...withRef } = event;
    expect(validate({ ...withRef, dataref: 'https://account.blob.core.windows.net/teams-event-payloads/x.json' })).toBe(true);
  });

  it('refuses what is not an event of ours', () => {
    expect(validate({ specversion: '1.0', id: 'x' })).toBe(false);
  });
});
