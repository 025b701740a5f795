/** The configuration file: sections to variables, the environment over it, every problem at once. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceConfigError } from '../runtime/errors.ts';
import { applySettings, parseConfigFile } from './config-file.ts';
import { loadConfiguration } from './load.ts';

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ServiceConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('parseConfigFile', () => {
  it('turns sections into the variables that override them: lists, flags and numbers spelled as the environment would', () => {
    const f = parseConfigFile(JSON.stringify({ kafka: { brokers: ['a:9092', 'b:9092'], tls: true, partitions: 12 }, caseOpener: { fieldService: false }, detection: { detector: { raiseThreshold: 0.6 } } }), 'x.json');
    expect(f.format).toBe('sections');
    expect(Object.fromEntries(f.settings)).toEqual({ PDM_KAFKA_BROKERS: 'a:9092,b:9092', PDM_KAFKA_TLS: 'on', PDM_PARTITIONS: '12', PDM_SF_FIELD_SERVICE: 'off' });
    expect(f.detection).toEqual({ detector: { raiseThreshold: 0.6 } });
  });

  it('reads a detection-only file of earlier releases as the detection section', () => {
    const f = parseConfigFile(JSON.stringify({ version: 'site-7', detector: { windowSize: 64 } }), 'old.json');
    expect(f.format).toBe('detection-only');
    expect(f.settings.size).toBe(0);
    expect(f.detection).toEqual({ version: 'site-7', detector: { windowSize: 64 } });
  });

  it('names every problem at once: unknown sections and keys (with a suggestion), credentials, wrong types', () => {
    const problems = problemsOf(() =>
      parseConfigFile(
        JSON.stringify({
          kafak: {},
          kafka: { broker: 'a:9092', partitions: [12], tls: 1 },
          influx: { token: 'hunter2' },
          salesforce: { clientSecret: 's3cret' },
          detector: { raiseThreshold: 0.4 },
        }),
        'bad.json',
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^bad\.json: kafak: unknown section \(did you mean kafka\?\)/),
      expect.stringMatching(/^bad\.json: kafka\.broker: unknown setting \(did you mean brokers\?\)/),
      'bad.json: kafka.partitions: must be a number, got an array',
      'bad.json: kafka.tls: must be true, false, "on" or "off", got number 1',
      'bad.json: influx.token: a credential does not belong in the configuration file; set PDM_INFLUX_TOKEN instead',
      'bad.json: salesforce.clientSecret: a credential does not belong in the configuration file; set PDM_SF_CLIENT_SECRET or PDM_SF_CLIENT_SECRET_FILE (a mounted secret) instead',
      expect.stringMatching(/^bad\.json: detector: unknown section \(the detection configuration's detector goes inside "detection"\)/),
    ]);
    // A credential's value is never repeated in a message.
    expect(problems.join('\n')).not.toMatch(/hunter2|s3cret/);
  });

  it('refuses what is not a JSON object', () => {
    expect(problemsOf(() => parseConfigFile('{"kafka": ', 'x.json'))).toEqual([expect.stringMatching(/^x\.json: not JSON: /)]);
    expect(problemsOf(() => parseConfigFile('[1]', 'x.json'))).toEqual([expect.stringMatching(/^x\.json: must be a JSON object of sections .*, got an array$/)]);
  });
});

describe('applySettings', () => {
  it('fills what the environment does not set; the environment wins', () => {
    const f = parseConfigFile(JSON.stringify({ kafka: { partitions: 12 }, influx: { url: 'http://file:8086' } }), 'x.json');
    const env: NodeJS.ProcessEnv = { PDM_INFLUX_URL: 'http://env:8086' };
    expect(applySettings(f, env)).toEqual({ fromFile: ['PDM_PARTITIONS'], overridden: ['PDM_INFLUX_URL'] });
    expect(env).toEqual({ PDM_INFLUX_URL: 'http://env:8086', PDM_PARTITIONS: '12' });
  });
});

describe('loadConfiguration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdm-config-'));
  const write = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };

  it('loads the file named by PDM_CONFIG_FILE with the environment over it', async () => {
    const path = write('ok.json', { kafka: { brokers: ['k1:9092'], partitions: 3 }, scorer: { checkpointMs: 2500 }, detection: { version: 'tuned', detector: { raiseThreshold: 0.6 } } });
    const c = await loadConfiguration(undefined, { PDM_CONFIG_FILE: path, PDM_PARTITIONS: '9' });
    expect(c.env.brokers).toEqual(['k1:9092']);
    expect(c.env.partitions).toBe(9);
    expect(c.scorer).toEqual({ checkpointIntervalMs: 2500 });
    expect(c.cfg.version).toBe('tuned');
    expect(c.cfg.detector.raiseThreshold).toBe(0.6);
  });

  it('names the file\'s, the values\' and the detection section\'s problems in one run, each where it came from', async () => {
    const path = write('bad.json', { kafka: { partitions: 0, colour: 'blue' }, scorer: { stateTtlMs: 5 }, detection: { detector: { raiseThreshold: 2 } } });
    const err = await loadConfiguration(path, { PDM_LOG_LEVEL: 'loud' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceConfigError);
    expect((err as ServiceConfigError).problems).toEqual([
      expect.stringMatching(new RegExp(`^${path}: kafka\\.colour: unknown setting`)),
      `${path}: kafka.partitions: PDM_PARTITIONS: must be an integer 1-1000`,
      `${path}: detection.detector.raiseThreshold: must be between 0.000001 and 1, got 2`,
      'PDM_LOG_LEVEL=loud: must be one of debug, info, warn, error, silent',
      `${path}: scorer.stateTtlMs: PDM_SCORER_STATE_TTL_MS=5: must be an integer >= 1000 (ms)`,
    ]);
  });

  it('names a missing file', async () => {
    const err = await loadConfiguration(join(dir, 'nope.json'), {}).catch((e: unknown) => e);
    expect((err as ServiceConfigError).problems).toEqual([`${join(dir, 'nope.json')}: cannot read it (no such file)`]);
  });
});
