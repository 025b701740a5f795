/**
 * How the Kafka clients authenticate and encrypt, by configuration alone: TLS (with an optional
 * CA bundle for a private CA) and SASL (SCRAM-SHA-256/512, or PLAIN over TLS), from PDM_KAFKA_*
 * variables, a password from the variable or a mounted file (`_FILE`), never both. Every
 * problem is named at once; a PLAIN password without TLS is refused (it would cross the network
 * in clear). The local stack runs without either.
 */
import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import { ServiceConfigError } from '../runtime/errors.ts';

export interface KafkaSecurity {
  /** TLS to the brokers; `ca`: PEM bundle of the CA that signed them (the system's when absent). */
  ssl?: { ca?: string };
  sasl?: SASLOptions;
}

const MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;

/** The Kafka security settings of the environment; ServiceConfigError naming every problem. */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const problems: string[] = [];
  const given = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const file = (name: string): string | undefined => {
    const path = given(name);
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      problems.push(`${name}=${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const out: KafkaSecurity = {};
  const tls = given('PDM_KAFKA_TLS');
  if (tls !== undefined && tls !== 'on' && tls !== 'off') problems.push(`PDM_KAFKA_TLS=${tls}: must be on or off`);
  const ca = file('PDM_KAFKA_TLS_CA_FILE');
  if (tls === 'on') out.ssl = ca ? { ca } : {};
  else if (ca) problems.push('PDM_KAFKA_TLS_CA_FILE is set but PDM_KAFKA_TLS is not on');

  const mechanism = given('PDM_KAFKA_SASL_MECHANISM')?.toLowerCase();
  if (mechanism !== undefined) {
    if (!(MECHANISMS as readonly string[]).includes(mechanism)) problems.push(`PDM_KAFKA_SASL_MECHANISM=${mechanism}: must be one of ${MECHANISMS.join(', ')}`);
    const username = given('PDM_KAFKA_SASL_USERNAME');
    if (given('PDM_KAFKA_SASL_PASSWORD') && given('PDM_KAFKA_SASL_PASSWORD_FILE')) problems.push('PDM_KAFKA_SASL_PASSWORD and PDM_KAFKA_SASL_PASSWORD_FILE are both set: set one');
    const password = given('PDM_KAFKA_SASL_PASSWORD') ?? file('PDM_KAFKA_SASL_PASSWORD_FILE')?.replace(/\r?\n$/, '');
    if (!username) problems.push('PDM_KAFKA_SASL_USERNAME: empty (needed with PDM_KAFKA_SASL_MECHANISM)');
    if (!password) problems.push('PDM_KAFKA_SASL_PASSWORD (or PDM_KAFKA_SASL_PASSWORD_FILE): empty (needed with PDM_KAFKA_SASL_MECHANISM)');
    if (mechanism === 'plain' && tls !== 'on') problems.push('PDM_KAFKA_SASL_MECHANISM=plain sends the password in clear: set PDM_KAFKA_TLS=on');
    if (username && password && (MECHANISMS as readonly string[]).includes(mechanism)) out.sasl = { mechanism, username, password } as SASLOptions;
  } else if (given('PDM_KAFKA_SASL_USERNAME') || given('PDM_KAFKA_SASL_PASSWORD') || given('PDM_KAFKA_SASL_PASSWORD_FILE')) {
    problems.push('PDM_KAFKA_SASL_USERNAME/PASSWORD are set but PDM_KAFKA_SASL_MECHANISM is not');
  }
  if (problems.length > 0) throw new ServiceConfigError(problems);
  return out;
}
