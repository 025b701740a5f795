/**
 * Errors the scoring core throws. None is retriable: each names a configuration or data
 * problem that only a person (or a new deployment) can fix.
 */

/** The reading or state names an asset type the configuration does not define. */
export class UnknownAssetTypeError extends Error {
  override readonly name = 'UnknownAssetTypeError';
  readonly retriable = false;
  constructor(
    readonly assetType: string,
    readonly known: readonly string[],
  ) {
    super(`unknown asset type "${assetType}" (configured: ${known.join(', ')})`);
  }
}

/** Serialized state of a layout version this build cannot read (never silently reset). */
export class StateVersionError extends Error {
  override readonly name = 'StateVersionError';
  readonly retriable = false;
  constructor(
    readonly found: number | string,
    readonly supported: number,
    /** Oldest version this build still decodes (into the current layout). */
    readonly oldest: number = supported,
  ) {
    super(
      `cannot decode asset state: version ${found} is not supported (this build reads version ${oldest === supported ? supported : `${oldest} to ${supported}`}); ` +
        'refusing to reset it silently: deploy a build that knows this version or clear the state explicitly',
    );
  }
}

/** Bytes that are not an asset state at all (truncated or foreign). */
export class StateFormatError extends Error {
  override readonly name = 'StateFormatError';
  readonly retriable = false;
}
