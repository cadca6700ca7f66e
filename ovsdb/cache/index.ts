/** The OVSDB monitor cache: an atomic, indexed in-memory replica of monitored tables. */
export { DatabaseCache } from './database-cache.js';
export type { ChangeListener, ContentsFormat, DatabaseCacheOptions } from './database-cache.js';
export { TableCache } from './table-cache.js';
export { CacheIndex, schemaIndexKeyOf } from './indexes.js';
export type { IndexKeyFn, IndexKeys, IndexOptions } from './indexes.js';
export { columnCodec, ZERO_UUID } from './codec.js';
export type { ColumnCodec } from './codec.js';
export { OvsdbCacheError } from './errors.js';
export type { ChangeBatch, ChangeCause, ChangeKind, Row, RowChange } from './types.js';
