/**
 * Fetches pinned artifacts from Maven Central over plain HTTPS, without Maven: each file is
 * streamed to disk while its SHA-256 is computed, and one whose digest or size differs from
 * the pin is refused (a corrupt download or a changed artifact, never silently used). A
 * transient network failure is retried with backoff; a 404 or a digest mismatch is not.
 *
 * `PDM_MAVEN_URL` points at a mirror (an Artifactory or Nexus proxy of Central) for machines
 * that cannot reach Central itself.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StackError } from './part.ts';

/** Maven Central's repository root; `PDM_MAVEN_URL` overrides it. */
export const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2';

/** One artifact, pinned by coordinates, SHA-256 and size. */
export interface PinnedArtifact {
  group: string;
  artifact: string;
  version: string;
  /** e.g. `all` for `apicurio-registry-app-3.3.3-all.tar.gz`; absent for the main jar. */
  classifier?: string;
  /** File extension: `jar` (default), `tar.gz`, ... */
  ext?: string;
  sha256: string;
  bytes: number;
}

/** The file name Maven gives the artifact, e.g. `kafka_2.13-4.1.1.jar`. */
export function artifactFileName(a: PinnedArtifact): string {
  return `${a.artifact}-${a.version}${a.classifier ? `-${a.classifier}` : ''}.${a.ext ?? 'jar'}`;
}

/** The artifact's URL under the repository root (Maven 2 layout). */
export function artifactUrl(a: PinnedArtifact, repo = repositoryUrl()): string {
  return `${repo}/${a.group.replaceAll('.', '/')}/${a.artifact}/${a.version}/${artifactFileName(a)}`;
}

export function repositoryUrl(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.PDM_MAVEN_URL?.trim();
  return (v ? v : MAVEN_CENTRAL).replace(/\/+$/, '');
}

/** Attempts per file; transient failures back off 1 s, 2 s, 4 s. */
const ATTEMPTS = 4;
/** A file that sends nothing for this long is abandoned and retried, in ms. */
const STALL_MS = 60_000;

class PermanentError extends Error {}

/**
 * Downloads `a` to `file`, verifying its size and SHA-256.
 * @param part the stack part, named in errors.
 * @throws StackError naming the URL and what went wrong.
 */
export async function fetchArtifact(a: PinnedArtifact, file: string, part: string): Promise<void> {
  const url = artifactUrl(a);
  let last: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      await fetchOnce(url, a, file);
      return;
    } catch (err) {
      await rm(file, { force: true });
      last = err;
      if (err instanceof PermanentError) break;
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
    }
  }
  throw new StackError(part, `cannot fetch ${url}: ${last instanceof Error ? last.message : String(last)}`, undefined, { cause: last });
}

async function fetchOnce(url: string, a: PinnedArtifact, file: string): Promise<void> {
  const abort = new AbortController();
  let stall = setTimeout(() => abort.abort(new Error(`no data for ${STALL_MS / 1000} s`)), STALL_MS);
  try {
    const res = await fetch(url, { signal: abort.signal });
    if (res.status === 404) throw new PermanentError('404 Not Found (wrong coordinates, or the mirror lacks it)');
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        clearTimeout(stall);
        stall = setTimeout(() => abort.abort(new Error(`no data for ${STALL_MS / 1000} s`)), STALL_MS);
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), tap, createWriteStream(file));
    const digest = hash.digest('hex');
    if (bytes !== a.bytes || digest !== a.sha256) {
      throw new PermanentError(`got ${bytes} bytes with SHA-256 ${digest}, the pin says ${a.bytes} bytes with ${a.sha256}`);
    }
  } finally {
    clearTimeout(stall);
  }
}

/** Runs `fn` over `items` with at most `limit` at once; rejects with every failure at once. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'));
}
