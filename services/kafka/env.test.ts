/**
 * The Salesforce settings of pipelineEnv: the login flow chosen by configuration alone,
 * secrets from variables or files, stand-in defaults only on loopback (a real org is never
 * sent them), and the client-credentials flow refused on the shared login hosts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ServiceConfigError } from '../runtime/errors.ts';
import { LOCAL_STACK_ENV, pipelineEnv } from './env.ts';

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    pipelineEnv(env);
  } catch (err) {
    if (err instanceof ServiceConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('Salesforce settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdm-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults: the local stand-in, password flow', () => {
    expect(pipelineEnv({}).salesforce).toEqual(LOCAL_STACK_ENV.salesforce);
  });

  test('client credentials by configuration alone: no username or password needed or used', () => {
    const sf = pipelineEnv({ PDM_SF_AUTH_FLOW: 'client_credentials', PDM_SF_LOGIN_URL: 'https://acme.my.salesforce.com', PDM_SF_CLIENT_ID: 'id', PDM_SF_CLIENT_SECRET: 's' }).salesforce;
    expect(sf).toEqual({ loginUrl: 'https://acme.my.salesforce.com', authFlow: 'client_credentials', username: '', password: '', securityToken: '', clientId: 'id', clientSecret: 's', apiVersion: '62.0' });
  });

  test('a real org gets no stand-in defaults: every missing credential is named', () => {
    expect(problemsOf({ PDM_SF_LOGIN_URL: 'https://login.salesforce.com' })).toEqual([
      'PDM_SF_CLIENT_ID is required for every flow (the local stand-in defaults apply only to a loopback PDM_SF_LOGIN_URL)',
      'PDM_SF_CLIENT_SECRET is required for every flow (the local stand-in defaults apply only to a loopback PDM_SF_LOGIN_URL)',
      'PDM_SF_USERNAME is required for the password flow (the local stand-in defaults apply only to a loopback PDM_SF_LOGIN_URL)',
      'PDM_SF_PASSWORD is required for the password flow (the local stand-in defaults apply only to a loopback PDM_SF_LOGIN_URL)',
    ]);
  });

  test('client credentials on login.salesforce.com is refused before any request', () => {
    expect(problemsOf({ PDM_SF_AUTH_FLOW: 'client_credentials', PDM_SF_LOGIN_URL: 'https://login.salesforce.com/', PDM_SF_CLIENT_ID: 'i', PDM_SF_CLIENT_SECRET: 's' })).toEqual([
      "PDM_SF_LOGIN_URL=https://login.salesforce.com: client credentials must go to the org's My Domain URL (https://<domain>.my.salesforce.com), not login.salesforce.com",
    ]);
    expect(problemsOf({ PDM_SF_AUTH_FLOW: 'jwt' })).toEqual(['PDM_SF_AUTH_FLOW=jwt: must be password or client_credentials']);
  });

  test('secrets from files (a trailing newline dropped), never from both a file and the variable', () => {
    writeFileSync(join(dir, 'secret'), 's3cret\n');
    writeFileSync(join(dir, 'token'), 'tok');
    const sf = pipelineEnv({ PDM_SF_CLIENT_SECRET_FILE: join(dir, 'secret'), PDM_SF_SECURITY_TOKEN_FILE: join(dir, 'token') }).salesforce;
    expect([sf.clientSecret, sf.securityToken]).toEqual(['s3cret', 'tok']);
    expect(problemsOf({ PDM_SF_PASSWORD: 'p', PDM_SF_PASSWORD_FILE: join(dir, 'secret') })).toEqual(['PDM_SF_PASSWORD and PDM_SF_PASSWORD_FILE are both set: set one']);
    expect(problemsOf({ PDM_SF_PASSWORD_FILE: join(dir, 'missing') })).toEqual([`PDM_SF_PASSWORD_FILE=${join(dir, 'missing')}: cannot read it (ENOENT)`]);
  });

  test('a problem names the variable, never the secret', () => {
    const problems = problemsOf({ PDM_SF_LOGIN_URL: 'https://acme.my.salesforce.com', PDM_SF_PASSWORD: 'hunter2-secret', PDM_SF_API_VERSION: 'v62' });
    expect(problems.join('\n')).not.toContain('hunter2-secret');
    expect(problems).toContain('PDM_SF_API_VERSION=v62: expected like 62.0');
  });
});
