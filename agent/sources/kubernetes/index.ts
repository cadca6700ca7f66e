export {
  createKubernetesSource,
  loadKubeConfig,
  type KubeStatusTarget,
  type KubernetesSource,
  type KubernetesSourceOptions,
  type KubernetesSourceStats,
} from './source.js';
export { KubeApiError } from './api.js';
export { WATCHED_KINDS, type WatchedKind } from './kinds.js';
export type { ObservedObject, ReflectorState } from './reflector.js';
