/**
 * The core is pure and self-contained (DESIGN.md, "The scoring core is pure"): its modules
 * import only each other, never `node:*`, a package or another folder, and read no clock and
 * no unseeded randomness. Test files and their kits are outside the core's import graph:
 * kits that build simulated assets live with the simulator (services/simulator).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = dirname(fileURLToPath(import.meta.url));
const modules = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
/** The naive reference recomputes with simple-statistics; tests and the benchmark load it on its own. */
const ALLOWED_PACKAGES: Record<string, readonly string[]> = { 'reference.ts': ['simple-statistics'] };

const specifiers = (src: string): string[] =>
  [...src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm)].map(
    (m) => m[1] ?? m[2] ?? m[3]!,
  );

describe('the core imports nothing outside itself', () => {
  it('finds the core modules', () => {
    expect(modules).toEqual(expect.arrayContaining(['index.ts', 'score.ts', 'layout.ts', 'sensor-score.ts', 'tracker.ts', 'episode.ts']));
  });
  it.each(modules)('%s imports only sibling core modules', (file) => {
    const src = readFileSync(join(dir, file), 'utf8');
    const outside = specifiers(src).filter((s) => !/^\.\/[a-z0-9-]+\.ts$/.test(s) && !(ALLOWED_PACKAGES[file] ?? []).includes(s));
    expect(outside).toEqual([]);
  });
  it.each(modules)('%s reads no clock and no unseeded randomness', (file) => {
    const code = readFileSync(join(dir, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(code.match(/Date\.now\(|new Date\(\)|Math\.random\(|performance\.|process\.|setTimeout\(|setInterval\(/g)).toBeNull();
  });
});
