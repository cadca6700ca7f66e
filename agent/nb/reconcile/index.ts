/** Public API of agent/nb/reconcile: the diff (pure), the generic runner, the NB engine. */
export {
  planReconcile,
  emptyCounts,
  type OpCounts,
  type OpKind,
  type PlanOptions,
  type PlanProblem,
  type PlanProblemCode,
  type ReconcilePlan,
} from './plan.js';
export {
  ensureOwnershipIndexes,
  externalIds,
  isOwnedBy,
  keyIndexName,
  ownedByKey,
  ownedCounts,
  ownedRows,
  ownableTables,
} from './ownership.js';
export { createRunner, type Runner, type RunnerHealth, type RunnerOptions } from '../../reconcile/runner.js';
export {
  createNbReconciler,
  resourceOf,
  type EngineClient,
  type EngineConfig,
  type EngineDeps,
  type NbReconciler,
  type PassReport,
  type ReconcileStats,
  type ResourceStatus,
} from './engine.js';
