// Entry of a scoring thread (scoring-thread.ts): tsx's hooks are registered per thread, so
// the thread registers them before importing TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./scoring-thread.ts');
