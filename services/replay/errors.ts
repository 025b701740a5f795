/**
 * The error of a replay that cannot go on for a reason outside the program (a missing or empty
 * topic, a scorer that scored nothing, a read that stalls, a bad input file): `pdm replay`
 * prints its message as is and exits with 1.
 */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}
