/**
 * Vitest global setup of the integration project: makes sure the local stack is installed
 * and running (installing and starting it when it is not, with progress on stderr), then
 * hands every test the connection info. A test that needs a server never skips: if the
 * stack cannot start, the run fails here with the part, the cause and the log file.
 */
import type { TestProject } from 'vitest/node';
import { connectionInfo, PART_NAMES, up, type PartName, type StackStatus } from '../stack/stack.ts';
import { clearStaleTestTopics } from './stale-topics.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackStatus;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  // PDM_TEST_STACK_PARTS=kafka,registry narrows the stack while working on one part; the
  // default (and CI) is every part.
  const only = process.env.PDM_TEST_STACK_PARTS
    ? (process.env.PDM_TEST_STACK_PARTS.split(',').map((s) => s.trim()).filter((s) => (PART_NAMES as readonly string[]).includes(s)) as PartName[])
    : [...PART_NAMES];
  const t0 = Date.now();
  await up({ only, progress: (line) => process.stderr.write(`stack ${line}\n`) });
  process.stderr.write(`stack: ready for integration tests in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const info = await connectionInfo(only);
  if (info.kafka.up) await clearStaleTestTopics(info.kafka.brokers as string[], 'pdm-test-janitor', (line) => process.stderr.write(`stack: ${line}\n`));
  project.provide('stack', info);
}
