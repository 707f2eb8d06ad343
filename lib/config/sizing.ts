/**
 * Sizing rules shared by the config guards and the constructs: one place for the numbers that must agree
 * (the rolling-update surge the budget counts is the surge the Deployment uses).
 */

/** Pods the Deployment may add above its replica count during a rollout (`maxSurge`). */
export const ROLLING_SURGE = 1;

/**
 * Memory of an MLflow server pod, per process, from `npm run measure:sizing` on the real server (basic-auth, MariaDB,
 * job execution off, 2 workers; docs/configuration.md#sizing, docs/design.md#sizing): PSS — the share of pages the memory cgroup is charged for.
 * Measured on MLflow 3.17.0: the `mlflow server` parent 197–201 MiB; uvicorn's supervisor + multiprocessing's
 * resource tracker 22–23 MiB; each worker 195–199 MiB idle and up to 529 MiB at the peak of a saturating load (16
 * clients; 3.11 peaked at 496). The GCS client libraries, absent from the measuring machine, load into the workers on
 * the first artifact request.
 */
export const MEMORY_MIB = {
  /** The `mlflow server` parent (it opens the stores once and then only supervises): 201 measured + margin. */
  parent: 256,
  /** uvicorn's supervisor and multiprocessing's resource tracker together: 23 measured. */
  supervisors: 32,
  /** Each uvicorn worker: 529 peak + ≈48 for the GCS client libraries + margin. */
  worker: 608,
} as const;

/** Memory an MLflow pod needs: parent + supervisors + workers × worker. */
export function memoryFootprintMiB(workers: number): number {
  return MEMORY_MIB.parent + MEMORY_MIB.supervisors + workers * MEMORY_MIB.worker;
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
  /**
   * Connections of the garbage-collection CronJob's pod, which may run at any time, during a rollout too
   * ({@link GC_CONNECTIONS} when `gc` is on).
   * @default 0
   */
  readonly gcConnections?: number;
}

export interface ConnectionBudget extends ConnectionBudgetInput {
  readonly gcConnections: number;
  readonly surge: number;
  /** SQLAlchemy engines per worker: tracking + model registry (+ auth with basic-auth), each with its own pool. */
  readonly stores: number;
  /** Connections the `mlflow server` parent of every pod holds for the pod's life. */
  readonly parentConnections: number;
  /** Worst case of one pod: parent + workers × stores × (pool + overflow). */
  readonly perPod: number;
  /** Connections kept free for the migration Job, Cloud SQL's own and an operator's session. */
  readonly headroom: number;
  /** Worst case: every pod of a rollout at full pool + overflow, plus the gc pod. */
  readonly peak: number;
  readonly available: number;
  readonly fits: boolean;
}

/**
 * Database connections the `mlflow server` parent process keeps open (measured on MLflow 3.17.0: 3 on MariaDB and on
 * PostgreSQL, from start to the end of the load, held until the pod ends — the stores it opens once at start to check
 * the schema; independent of the load and of the pool settings; MLflow 3.11 held 2). `npm run measure:sizing`,
 * docs/configuration.md#sizing.
 */
export const PARENT_CONNECTIONS = 3;

/**
 * The SQLAlchemy pool of the `mlflow gc` process (`MLFLOW_SQLALCHEMYSTORE_POOL_SIZE` / `_MAX_OVERFLOW` of the gc
 * container): gc is one thread working through one store, so a second connection is already a margin. MLflow
 * ignores 0 for either setting (its defaults 5 and 10 would apply), hence 1 and 1.
 */
export const GC_POOL = { size: 1, maxOverflow: 1 } as const;

/** Connections the gc pod can hold at most: its one store's pool, {@link GC_POOL} (the proxy sidecar adds none). */
export const GC_CONNECTIONS = GC_POOL.size + GC_POOL.maxOverflow;

/**
 * The connection budget: `(maxReplicas + surge) × (parent + workers × stores × (pool + overflow)) + gc` must stay
 * within `max_connections − headroom`, headroom = max(10, 10 % of max_connections) — which also covers the
 * migration Job: it runs before a rollout starts (a Sync hook, ahead of the Deployment's wave), alongside at most
 * `maxReplicas` pods, so the surge pod's share is free then.
 */
export function connectionBudget(i: ConnectionBudgetInput): ConnectionBudget {
  const gcConnections = i.gcConnections ?? 0;
  const surge = ROLLING_SURGE;
  const stores = i.authEnabled ? 3 : 2;
  const parentConnections = PARENT_CONNECTIONS;
  const perPod = parentConnections + i.workers * stores * (i.poolSize + i.maxOverflow);
  const headroom = Math.max(10, Math.ceil(i.maxConnections * 0.1));
  const peak = (i.maxReplicas + surge) * perPod + gcConnections;
  const available = i.maxConnections - headroom;
  return { ...i, gcConnections, surge, stores, parentConnections, perPod, headroom, peak, available, fits: peak <= available };
}
