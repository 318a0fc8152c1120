import { describe, expect, it } from 'vitest';
import { compileRoute } from '../../dev/http/route-template.js';

describe('compileRoute', () => {
  it('matches literal routes case-insensitively', () => {
    const match = compileRoute('api/notifications');
    expect(match('/api/notifications')).toEqual({});
    expect(match('/API/Notifications/')).toEqual({});
    expect(match('/api/notification')).toBeUndefined();
    expect(match('/api/notifications/extra')).toBeUndefined();
  });

  it('captures parameters, optional ones and catch-alls', () => {
    expect(compileRoute('api/items/{id}/{rest?}')('/api/items/5')).toEqual({ id: '5' });
    expect(compileRoute('api/items/{id}/{rest?}')('/api/items/5/x')).toEqual({ id: '5', rest: 'x' });
    expect(compileRoute('api/items/{id}')('/api/items')).toBeUndefined();
    expect(compileRoute('api/files/{*path}')('/api/files/a/b%20c')).toEqual({ path: 'a/b c' });
  });

  it('enforces int, alpha and guid constraints', () => {
    expect(compileRoute('api/{n:int}')('/api/12')).toEqual({ n: '12' });
    expect(compileRoute('api/{n:int}')('/api/ab')).toBeUndefined();
    expect(compileRoute('api/{g:guid}')('/api/11111111-1111-4111-8111-111111111111')).toBeDefined();
  });
});
