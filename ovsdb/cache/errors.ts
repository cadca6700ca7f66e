import { OvsdbError } from '../errors.js';

/**
 * An update could not be applied to the cache: malformed or inconsistent with the
 * replica (insert of a row we already have, modify/delete of one we do not, a unique
 * index violated, a column we do not monitor). When thrown, the cache is unchanged.
 *
 * Codes: `OVSDB_CACHE_BAD_UPDATE` (malformed or inconsistent message),
 * `OVSDB_CACHE_INDEX_VIOLATION` (a unique index would hold two rows under one key).
 */
export class OvsdbCacheError extends OvsdbError {
  constructor(
    code: 'OVSDB_CACHE_BAD_UPDATE' | 'OVSDB_CACHE_INDEX_VIOLATION',
    message: string,
    readonly table?: string,
    readonly uuid?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
