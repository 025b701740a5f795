/**
 * Vitest global setup of the integration project: makes sure the local stack is installed
 * and running (installing and starting it when it is not, with progress on stderr), then
 * hands every test the connection info. A test that needs a server never skips: if the
 * stack cannot start, the run fails here with the part, the cause and the log file.
 */
import type { TestProject } from 'vitest/node';
import { connectionInfo, up, type StackStatus } from '../stack/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackStatus;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const t0 = Date.now();
  await up({ progress: (line) => process.stderr.write(`stack ${line}\n`) });
  process.stderr.write(`stack: ready for integration tests in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  project.provide('stack', await connectionInfo());
}
