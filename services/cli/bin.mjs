#!/usr/bin/env -S node --max-semi-space-size=32
// Entry point of the `pdm` command: loads the TypeScript CLI through tsx's ESM hooks.
// --max-semi-space-size=32 (a 32 MiB young generation; Node's default is 16): the scorer and
// the sink allocate a short-lived object per field of every reading, and with the default the
// young objects of a batch outlive it into the old generation. Measured in bench:e2e: the
// whole pipeline went from 18,600-19,500 to 21,500-21,800 readings/s. V8 reads the flag only
// at start, so it is on this line (and in the Dockerfile's entrypoint, and wherever the
// product starts a service process with `node bin.mjs`: SERVICE_NODE_FLAGS).
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
