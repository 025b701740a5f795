/**
 * The whole configuration of a service, read once at its start (and by `pdm config check`):
 * the file named by `--config` or PDM_CONFIG_FILE, the environment over it, and every
 * setting validated by the code that uses it, with every problem of every part reported at
 * once in one ServiceConfigError.
 */
import { compileConfig, ConfigError, DEFAULT_CONFIG, type CompiledConfig } from '../core/index.ts';
import { pipelineEnv, type PipelineEnv } from '../kafka/env.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { applySettings, readConfigFile, readConfigFileLeniently, type AppliedSettings, type ConfigFile } from './config-file.ts';
import { settingByEnv } from './settings.ts';
import { caseOpenerTuning, runtimeSettings, scorerTuning, type CaseOpenerTuning, type RuntimeSettings, type ScorerTuning } from './tuning.ts';

export interface Configuration {
  /** The file, when one was given. */
  file?: ConfigFile;
  /** Which of the file's settings were used and which the environment overrode. */
  applied?: AppliedSettings;
  env: PipelineEnv;
  /** The detection configuration: the file's `detection` section over the defaults. */
  cfg: CompiledConfig;
  runtime: RuntimeSettings;
  scorer: Partial<ScorerTuning>;
  caseOpener: Partial<CaseOpenerTuning>;
}

/** The compiled detection section of a file (the defaults without one); problems named with the file and path. */
export function compileDetection(file: ConfigFile | undefined): CompiledConfig {
  if (file?.detection === undefined) return DEFAULT_CONFIG;
  try {
    return compileConfig(file.detection);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const prefix = file.format === 'sections' ? 'detection.' : '';
    throw new ServiceConfigError(err.issues.map((i) => `${file.path}: ${prefix}${i.path === '$' ? '' : i.path}`.replace(/\.$/, '') + `: ${i.message}`));
  }
}

/** Reads the file (if any) and the detection config from it; connections are not touched. */
export async function loadDetectionConfig(path: string | undefined): Promise<CompiledConfig> {
  return compileDetection(path === undefined ? undefined : await readConfigFile(path));
}

/**
 * Loads the configuration: `path` (or PDM_CONFIG_FILE) is read and its settings put into
 * `env` where `env` does not already set them; then every setting is validated.
 * @param env the environment, changed in place (a service passes process.env, which its
 *   clients read; a check passes a copy)
 * @throws ServiceConfigError naming every problem of the file, the environment and the
 *   detection configuration
 */
export async function loadConfiguration(path: string | undefined, env: NodeJS.ProcessEnv): Promise<Configuration> {
  const problems: string[] = [];
  const collect = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ServiceConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const filePath = path ?? (env.PDM_CONFIG_FILE?.trim() || undefined);
  let file: ConfigFile | undefined;
  if (filePath !== undefined) {
    // The file's problems first; what is usable of it, and the environment, are still checked
    // so that one run names everything.
    const read = await readConfigFileLeniently(filePath);
    file = read.file;
    problems.push(...read.problems);
  }
  const applied = file ? applySettings(file, env) : undefined;
  const pipeline = collect(() => pipelineEnv(env));
  const cfg = collect(() => compileDetection(file));
  const runtime = collect(() => runtimeSettings(env));
  const scorer = collect(() => scorerTuning(env));
  const caseOpener = collect(() => caseOpenerTuning(env));
  if (problems.length > 0) throw new ServiceConfigError(problems.map((p) => locate(p, file, applied)));
  return { file, applied, env: pipeline!, cfg: cfg!, runtime: runtime!, scorer: scorer!, caseOpener: caseOpener! };
}

/** A problem with a variable whose value came from the file names the file and the key too. */
function locate(problem: string, file: ConfigFile | undefined, applied: AppliedSettings | undefined): string {
  const name = /^PDM_[A-Z0-9_]+/.exec(problem)?.[0];
  const setting = name && applied?.fromFile.includes(name) ? settingByEnv(name) : undefined;
  return setting && file ? `${file.path}: ${setting.key}: ${problem}` : problem;
}
