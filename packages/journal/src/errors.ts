import { FluxError } from '@flux/ring';

/**
 * A journal file is damaged in a way no crash of a writer explains: a segment of the wrong
 * size or header, or a record that fails its checksum before the durable position (it was
 * on stable storage, whole). `path` names the file, `offsetBytes` where in it.
 */
export class JournalCorruptError extends FluxError {
  constructor(
    readonly path: string,
    readonly offsetBytes: number,
    detail: string,
  ) {
    super('ERR_FLUX_JOURNAL_CORRUPT', `${path} ${detail}`);
  }
}
