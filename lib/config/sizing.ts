/**
 * Sizing rules shared by the config guards and the constructs: one place for the numbers that must agree
 * (the rolling-update surge the budget counts is the surge the Deployment uses).
 */

/** Pods the Deployment may add above its replica count during a rollout (`maxSurge`). */
export const ROLLING_SURGE = 1;

/** Measured MLflow footprint per process with job execution off (docs/design.md#sizing): parent + each uvicorn worker. */
export const MIB_PER_MLFLOW_PROCESS = 256;

/** Memory an MLflow pod needs: 256 MiB × (workers + 1). */
export function memoryFootprintMiB(workers: number): number {
  return MIB_PER_MLFLOW_PROCESS * (workers + 1);
}

const MEMORY_UNITS: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** `512Mi` → 512, `2Gi` → 2048. Accepts only the binary-suffixed forms the config schema admits. */
export function parseMemoryMiB(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(q);
  if (!m) throw new Error(`not a binary memory quantity: ${q}`);
  return Number(m[1]) * MEMORY_UNITS[m[2]];
}

/** `500m` → 500, `2` → 2000, `1.5` → 1500. */
export function parseCpuMillis(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

export interface ConnectionBudgetInput {
  readonly maxReplicas: number;
  readonly workers: number;
  readonly authEnabled: boolean;
  readonly poolSize: number;
  readonly maxOverflow: number;
  /** The Cloud SQL instance's `max_connections`. */
  readonly maxConnections: number;
}

export interface ConnectionBudget extends ConnectionBudgetInput {
  readonly surge: number;
  /** SQLAlchemy engines per worker: tracking + model registry (+ auth with basic-auth), each with its own pool. */
  readonly stores: number;
  /** Connections kept free for the migration Job, Cloud SQL's own and an operator's session. */
  readonly headroom: number;
  /** Worst case: every pod of a rollout at full pool + overflow. */
  readonly peak: number;
  readonly available: number;
  readonly fits: boolean;
}

/**
 * The connection budget (docs/design.md#sizing): `(maxReplicas + surge) × workers × stores × (pool + overflow)` must stay
 * within `max_connections − headroom`, headroom = max(10, 10 % of max_connections).
 */
export function connectionBudget(i: ConnectionBudgetInput): ConnectionBudget {
  const surge = ROLLING_SURGE;
  const stores = i.authEnabled ? 3 : 2;
  const headroom = Math.max(10, Math.ceil(i.maxConnections * 0.1));
  const peak = (i.maxReplicas + surge) * i.workers * stores * (i.poolSize + i.maxOverflow);
  const available = i.maxConnections - headroom;
  return { ...i, surge, stores, headroom, peak, available, fits: peak <= available };
}
