import { describe, expect, it } from 'vitest';
import { ClientStateVerifier } from '../../shared/receive/client-state.js';

describe('ClientStateVerifier', () => {
  const verifier = new ClientStateVerifier(['current-secret', 'previous-secret']);

  it('accepts the configured secret', () => {
    expect(verifier.matches('current-secret')).toBe(true);
  });

  it('accepts every secret of a rotation', () => {
    expect(verifier.matches('previous-secret')).toBe(true);
  });

  it('refuses anything else, including prefixes, case changes and empty values', () => {
    for (const candidate of ['current-secre', 'current-secret ', 'CURRENT-SECRET', '', 'x'.repeat(500)]) {
      expect(verifier.matches(candidate)).toBe(false);
    }
  });

  it('refuses a missing clientState', () => {
    expect(verifier.matches(undefined)).toBe(false);
    expect(verifier.matches(null)).toBe(false);
  });

  it('refuses to be built without a secret', () => {
    expect(() => new ClientStateVerifier([])).toThrow();
  });
});
