// Links this package's own `pdm` bin into node_modules/.bin so `npx pdm` works in the
// checkout after `npm ci` (npm links the bins of dependencies, not of the root package).
import { mkdirSync, symlinkSync, rmSync, chmodSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
const target = join(root, 'services', 'cli', 'bin.mjs');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'pdm');
rmSync(link, { force: true });
symlinkSync(relative(binDir, target), link);
chmodSync(target, 0o755);
