/** Kafka TLS and SASL from the environment: what kafkajs is given, and every mistake named. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceConfigError } from '../runtime/errors.ts';
import { kafkaSecurityFromEnv } from './security.ts';

const dir = mkdtempSync(join(tmpdir(), 'pdm-kafka-sec-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const pw = join(dir, 'pw');
writeFileSync(pw, 's3cret\n');

const problems = (env: Record<string, string>): string[] => {
  try {
    kafkaSecurityFromEnv(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceConfigError);
    return (err as ServiceConfigError).problems;
  }
};

describe('kafkaSecurityFromEnv', () => {
  it('is nothing by default (the local stack)', () => {
    expect(kafkaSecurityFromEnv({})).toEqual({});
  });

  it('gives SCRAM over TLS with a private CA, the password from a mounted file', () => {
    expect(
      kafkaSecurityFromEnv({ PDM_KAFKA_TLS: 'on', PDM_KAFKA_TLS_CA_FILE: ca, PDM_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', PDM_KAFKA_SASL_USERNAME: 'pdm', PDM_KAFKA_SASL_PASSWORD_FILE: pw }),
    ).toEqual({ ssl: { ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' }, sasl: { mechanism: 'scram-sha-512', username: 'pdm', password: 's3cret' } });
    expect(kafkaSecurityFromEnv({ PDM_KAFKA_TLS: 'on' })).toEqual({ ssl: {} });
  });

  it('names every mistake at once, and refuses PLAIN without TLS', () => {
    expect(problems({ PDM_KAFKA_TLS: 'yes', PDM_KAFKA_SASL_MECHANISM: 'gssapi' })).toEqual([
      'PDM_KAFKA_TLS=yes: must be on or off',
      'PDM_KAFKA_SASL_MECHANISM=gssapi: must be one of scram-sha-256, scram-sha-512, plain',
      'PDM_KAFKA_SASL_USERNAME: empty (needed with PDM_KAFKA_SASL_MECHANISM)',
      'PDM_KAFKA_SASL_PASSWORD (or PDM_KAFKA_SASL_PASSWORD_FILE): empty (needed with PDM_KAFKA_SASL_MECHANISM)',
    ]);
    expect(problems({ PDM_KAFKA_SASL_MECHANISM: 'plain', PDM_KAFKA_SASL_USERNAME: 'u', PDM_KAFKA_SASL_PASSWORD: 'p' })).toEqual([
      'PDM_KAFKA_SASL_MECHANISM=plain sends the password in clear: set PDM_KAFKA_TLS=on',
    ]);
    expect(problems({ PDM_KAFKA_SASL_USERNAME: 'u' })).toEqual(['PDM_KAFKA_SASL_USERNAME/PASSWORD are set but PDM_KAFKA_SASL_MECHANISM is not']);
    expect(problems({ PDM_KAFKA_TLS_CA_FILE: join(dir, 'missing.pem') })).toEqual([`PDM_KAFKA_TLS_CA_FILE=${join(dir, 'missing.pem')}: cannot read it (ENOENT)`]);
    expect(problems({ PDM_KAFKA_SASL_MECHANISM: 'scram-sha-256', PDM_KAFKA_SASL_USERNAME: 'u', PDM_KAFKA_SASL_PASSWORD: 'p', PDM_KAFKA_SASL_PASSWORD_FILE: pw })).toEqual([
      'PDM_KAFKA_SASL_PASSWORD and PDM_KAFKA_SASL_PASSWORD_FILE are both set: set one',
    ]);
  });
});
