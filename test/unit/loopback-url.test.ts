import { describe, expect, it } from 'vitest';
import { isLoopbackHttpUrl, isLoopbackUrl } from '../../shared/util/loopback-url.js';
import { nonEmpty } from '../helpers/non-empty.js';

const LOOPBACK_HTTP = ['http://127.0.0.1:8080/v1.0/subscriptions', 'HTTP://LOCALHOST:7071/api/x', 'http://localhost/v1.0/chats', 'http://[::1]:3000/beta/subscriptions'];
/** Hosts that only look like this machine's: another machine's name or address. */
const ELSEWHERE = ['http://127.0.0.1.nip.io/v1.0/x', 'http://localhost.example.com/v1.0/x', 'http://10.0.0.1:8080/v1.0/x', 'http://graph.microsoft.com/v1.0/x', 'http://[::2]/x'];

describe('loopback URLs: a local stand-in, never an Azure service', () => {
  it('names this machine by 127.0.0.1, localhost or [::1], in any case and on any port or scheme', () => {
    expect(nonEmpty(LOOPBACK_HTTP).every(isLoopbackUrl)).toBe(true);
    expect(isLoopbackUrl('https://127.0.0.1:8443/secrets/x')).toBe(true);
    expect(ELSEWHERE.filter(isLoopbackUrl)).toEqual([]);
    expect(isLoopbackUrl('not a url')).toBe(false);
  });

  it('lets plain http go to this machine only: https to it, and http anywhere else, are not', () => {
    expect(nonEmpty(LOOPBACK_HTTP).every(isLoopbackHttpUrl)).toBe(true);
    expect(['https://127.0.0.1:8443/v1.0/x', 'https://graph.microsoft.com/v1.0/x', ...ELSEWHERE, 'http:/127.0.0.1/x', ' http://127.0.0.1/x', 'not a url'].filter(isLoopbackHttpUrl)).toEqual([]);
  });
});
