/** Public API of agent/resources: resource types, parsing, validation, loading, watching. */
export * from './types.js';
export * from './net.js';
export { parseResource, fieldPath, type ParseResult } from './parse.js';
export { parseProvider, parseDhcpOptions, ACL_ACTIONS, MAX_PRIORITY } from './normalize.js';
export { validateResources, implicitDefaultVpc, type ValidationResult } from './validate.js';
export {
  loadManifests,
  loadAndValidate,
  listManifestFiles,
  parseManifestText,
  type LoadedManifests,
  type LoadAndValidateResult,
  type LoadError,
} from './loader.js';
export { errorId, withLastValidKept, type HeldEdit } from './held.js';
export {
  blockedDeletes,
  withBlockedKept,
  referencesOf,
  type BlockedDelete,
  type Dependent,
  type Reference,
} from './deletes.js';
export { registerValidateCommand, runValidate } from './cli.js';
