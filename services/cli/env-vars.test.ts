/**
 * The list of service variables against the code: every PDM_ variable named in the
 * services' code (comments left out) is on the list, every listed one is named in the code,
 * and pipelineEnv() reads exactly the connection variables the list has.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pipelineEnv } from '../kafka/env.ts';
import { SERVICE_ENV_VARS } from './env-vars.ts';

const SERVICES = fileURLToPath(new URL('../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The code without its comments (line and block), so a stale doc mention does not count. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('SERVICE_ENV_VARS', () => {
  it('names every PDM_ variable the services code uses, and nothing else', () => {
    const used = new Map<string, string>();
    for (const file of sourceFiles(SERVICES)) {
      // The lists themselves name every variable; the code that reads them must too.
      if (file.endsWith('env-vars.ts') || file.endsWith('config/settings.ts')) continue;
      for (const m of withoutComments(readFileSync(file, 'utf8')).matchAll(/\bPDM_[A-Z0-9_]*[A-Z0-9]\b/g)) used.set(m[0], relative(SERVICES, file));
    }
    const listed = SERVICE_ENV_VARS.map((v) => v.name);
    expect([...used.keys()].filter((n) => !listed.includes(n)).map((n) => `${n} (${used.get(n)})`)).toEqual([]);
    expect(listed.filter((n) => !used.has(n))).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('holds every variable pipelineEnv() reads', () => {
    const read = new Set<string>();
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: (_t, key) => {
        if (typeof key === 'string') read.add(key);
        return undefined;
      },
    });
    pipelineEnv(env);
    const listed = new Set(SERVICE_ENV_VARS.map((v) => v.name));
    expect([...read].filter((n) => !listed.has(n))).toEqual([]);
    expect(read.size).toBeGreaterThan(10);
  });
});
