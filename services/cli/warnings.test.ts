/**
 * The known-harmless warning (kafkajs's negative setTimeout) stays off stderr in a real `node`
 * process, and every other warning is still printed as Node prints it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('dropKnownWarnings', () => {
  it("drops Node's TimeoutNegativeWarning and prints any other warning", () => {
    const script = [
      `const { dropKnownWarnings } = await import(${JSON.stringify(new URL('./warnings.ts', import.meta.url).href)});`,
      'dropKnownWarnings();',
      'setTimeout(() => {}, -1 - Date.now());',
      "process.emitWarning('something else', 'PdmTestWarning');",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('TimeoutNegativeWarning');
    expect(r.stderr).toContain('PdmTestWarning: something else');
  });

  // Node 24 reports a negative timeout (Node 20 did not): there the filter is needed.
  it.runIf(Number(process.versions.node.split('.')[0]) >= 24)('is needed on Node 24: without it, the same negative timeout is reported', () => {
    const r = spawnSync(process.execPath, ['-e', 'setTimeout(() => {}, -1 - Date.now());'], { encoding: 'utf8' });
    expect(r.stderr).toContain('TimeoutNegativeWarning');
  });
});
