import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanProcessEnv, KEPT_ENV } from '../../cli/clean-process-env.js';
import { loopbackCertificateDir } from '../../dev/tls/loopback-certificate.js';
import { nonEmpty } from '../helpers/non-empty.js';

/** A shell's environment: every kept variable, and settings of the operator's that a site must not see. */
const shell: NodeJS.ProcessEnv = {
  ...Object.fromEntries(KEPT_ENV.map((name) => [name, `/shell/${name}`])),
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  GRAPH_CLIENT_STATE: 'the-operator-s-own',
  NODE_OPTIONS: '--inspect',
};

describe('a clean process environment (a site’s or an operator’s process)', () => {
  it('keeps what runs Node and finds the user’s folders, and nothing else of the shell', () => {
    const env = cleanProcessEnv({}, shell);
    expect(Object.keys(env).sort()).toEqual([...KEPT_ENV].sort());
    expect(nonEmpty(Object.entries(env)).every(([name, value]) => value === `/shell/${name}`)).toBe(true);
  });

  it('finds the loopback certificate’s folder where the shell does: in its cache folder', () => {
    expect(loopbackCertificateDir(cleanProcessEnv({}, shell))).toBe(join('/shell/XDG_CACHE_HOME', 'teams-change-relay', 'tls'));
  });

  it('sets what it is given over the kept variables, and leaves out a kept one the shell has not and an undefined one given', () => {
    const env = cleanProcessEnv({ NODE_EXTRA_CA_CERTS: '/trust.pem', PATH: '/site/bin', GRAPH_CLIENT_STATE: undefined }, { PATH: '/shell/bin', HOME: '/home/op' });
    expect(env).toEqual({ PATH: '/site/bin', HOME: '/home/op', NODE_EXTRA_CA_CERTS: '/trust.pem' });
  });
});
