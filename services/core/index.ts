/**
 * Public API of the scoring core (pure: no I/O, no clock, no unseeded randomness).
 *
 * - compileConfig / DEFAULT_CONFIG / ConfigError: validated configuration;
 * - newState / score / maintain: the per-asset state machine (score mutates the state in
 *   place and returns it in step.state);
 * - encodeState / decodeState / stateVersion: versioned binary state (StateVersionError on unknown versions);
 * - windowStats / windowSpan: the incremental rolling statistics the tests compare with the
 *   naive reference (reference.ts, imported separately so the hot path never loads
 *   simple-statistics).
 */
export type * from './types.ts';
export { compileConfig, ConfigError, DEFAULT_CONFIG, DEFAULT_DETECTOR, GENERIC_TYPE, type ConfigIssue } from './config.ts';
export { DEFAULT_RAW_CONFIG, type RawConfig, type RawAssetType, type RawFailureMode, type RawSensor } from './default-config.ts';
export { UnknownAssetTypeError, StateVersionError, StateFormatError } from './errors.ts';
export { score, maintain } from './score.ts';
export { newState, STATE_VERSION } from './layout.ts';
export { episodeId } from './episode.ts';
export { isActive } from './tracker.ts';
export { encodeState, decodeState, stateVersion, type DecodeOptions, type NumberAllocator } from './state-codec.ts';
export { reviveConfig } from './transfer.ts';
export { sensorHistogram, type SensorHistogram } from './inspect.ts';
export { HISTOGRAM_BINS } from './histogram.ts';
