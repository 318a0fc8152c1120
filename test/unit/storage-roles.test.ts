import { describe, expect, it } from 'vitest';
import { actionOf, rolesAllow, type StorageAction, type StorageRole, type StorageService } from '../../dev/storage/storage-roles.js';

const q = (query = '') => new URLSearchParams(query);

describe('the storage role gate’s reading of requests and roles', () => {
  it('tells queue message operations apart as the queue roles’ data actions do', () => {
    expect(actionOf('queue', 'POST', ['incoming', 'messages'], q())).toBe('add');
    expect(actionOf('queue', 'GET', ['incoming', 'messages'], q())).toBe('process');
    expect(actionOf('queue', 'GET', ['incoming', 'messages'], q('peekonly=true'))).toBe('read');
    expect(actionOf('queue', 'DELETE', ['incoming', 'messages', 'id'], q('popreceipt=x'))).toBe('process');
    expect(actionOf('queue', 'PUT', ['incoming', 'messages', 'id'], q('popreceipt=x&visibilitytimeout=0'))).toBe('write');
    expect(actionOf('queue', 'DELETE', ['incoming', 'messages'], q())).toBe('write');
    expect(actionOf('queue', 'PUT', ['incoming'], q())).toBe('write');
    expect(actionOf('queue', 'GET', ['incoming'], q('comp=metadata'))).toBe('read');
  });

  it('reads blob and table requests by method, and a user delegation key request apart', () => {
    expect(actionOf('blob', 'HEAD', ['c', 'b'], q())).toBe('read');
    expect(actionOf('blob', 'PUT', ['c', 'b'], q())).toBe('write');
    expect(actionOf('blob', 'POST', [], q('restype=service&comp=userdelegationkey'))).toBe('delegate');
    expect(actionOf('table', 'GET', ["t(PartitionKey='p',RowKey='r')"], q())).toBe('read');
    expect(actionOf('table', 'POST', ['$batch'], q())).toBe('write');
  });

  it('allows each role its own service’s actions only', () => {
    const cases: [StorageRole[], StorageService, StorageAction, boolean][] = [
      [['Storage Queue Data Contributor'], 'queue', 'process', true],
      [['Storage Queue Data Message Sender'], 'queue', 'add', true],
      [['Storage Queue Data Message Sender'], 'queue', 'process', false],
      [['Storage Queue Data Message Processor'], 'queue', 'process', true],
      [['Storage Queue Data Message Processor'], 'queue', 'write', false],
      [['Storage Queue Data Reader'], 'queue', 'read', true],
      [['Storage Queue Data Reader'], 'queue', 'process', false],
      [['Storage Blob Data Reader'], 'blob', 'write', false],
      [['Storage Blob Delegator'], 'blob', 'read', false],
      [['Storage Blob Data Owner'], 'queue', 'read', false],
      [['Storage Table Data Reader'], 'table', 'write', false],
      [['Storage Table Data Contributor'], 'table', 'write', true],
      [[], 'blob', 'read', false],
    ];
    expect(cases.map(([roles, service, action]) => rolesAllow(roles, service, action))).toEqual(cases.map(([, , , allowed]) => allowed));
  });
});
