import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MLFLOW_TASK_RESOURCES, mlflowClientEnv } from './client-env';
import { GC_POOL } from '../config/sizing';
import {
  MLFLOW_UID,
  addPodSeccomp,
  removePathDerivedPodLabel,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../conventions';
import type { DatabaseAccess } from './database-access';
import { skipSecretEnvCheck, skipTagPinnedImageChecks } from '../policy/checkov';
import type { ResolvedAuth } from '../config/model';
import type { NetworkPolicies } from './network-policies';
import { SecretManagerStore } from './secret-store';

/** Props of {@link GarbageCollection}. */
export interface GarbageCollectionProps {
  /**
   * The namespace's network policies: this feature adds the rules it needs to them.
   * @default - no NetworkPolicy rules
   */
  readonly network?: NetworkPolicies;
  /** The MLflow image (same tag and digest as the server: `mlflow gc` must match the schema it deletes from). */
  readonly image: string;
  /** Cron schedule, five fields (validated by the config schema). */
  readonly schedule: string;
  /** Runs, experiments and logged models deleted more than this many days ago are removed (`--older-than <N>d`). */
  readonly olderThanDays: number;
  /** The server's KSA (Workload Identity: the Cloud SQL proxy authenticates as it). */
  readonly serviceAccount: kplus.ServiceAccount;
  /** The database: backend URI and the Cloud SQL proxy native sidecar (a database server: the config refuses gc with SQLite). */
  readonly database: DatabaseAccess;
  /**
   * The server as in-cluster clients reach it (`--tracking-uri`): run artifacts are `mlflow-artifacts:` URIs, which
   * MLflow deletes only through the server's artifact proxy.
   */
  readonly serverUrl: string;
  /**
   * Basic-auth: the pod logs in as the admin (deleting through the proxy needs MANAGE on each experiment, which only
   * the admin has on all of them), from its own ExternalSecret `mlflow-gc-auth`.
   * @default - no credentials: the server runs without basic-auth
   */
  readonly auth?: ResolvedAuth;
  /** Labels of the Job's pods (the network policies select them). */
  readonly podLabels: Record<string, string>;
  /**
   * The labels that select those pods (a subset of `podLabels`), by which the network policies admit them.
   * @default - the pod labels
   */
  readonly selectorLabels?: Record<string, string>;
}

/**
 * Retries of a failed pod within one run (a server restart, a proxy that was slow to start). What is left then
 * waits for the next scheduled run: gc is idempotent and deletes run by run.
 */
const BACKOFF_LIMIT = 1;
/** Deadline of one run. A first run over a large backlog may not finish in it; the next run continues. */
const ACTIVE_DEADLINE = Duration.hours(1);
/** How late the controller may still start a missed run (controller down, node pressure); later, it waits for the next schedule. */
const STARTING_DEADLINE = Duration.hours(1);
/** Finished Jobs kept for inspection (`kubectl -n <ns> logs job/<name>`), each of successes and failures. */
const JOBS_RETAINED = 3;

/** Path of the pod template inside a CronJob. */
const POD_TEMPLATE = '/spec/jobTemplate/spec/template';

/**
 * MLflow's garbage collection on a schedule: a CronJob running `mlflow gc`, which permanently deletes the runs,
 * experiments and logged models that were deleted (soft-deleted: the UI's and API's delete) more than
 * `olderThanDays` ago, with their artifacts.
 *
 * The command: `mlflow gc --backend-store-uri $(MLFLOW_BACKEND_STORE_URI) --older-than <N>d --tracking-uri <server>`.
 * `--backend-store-uri` has no environment-variable form, so the kubelet expands the URI from the Secret into argv.
 * `--tracking-uri` is required: the proxied runs' artifact URIs are `mlflow-artifacts:/<exp>/<run>/artifacts`, which
 * MLflow resolves only against an http(s) tracking URI and deletes with an HTTP DELETE through the server's artifact
 * proxy (the server deletes from `--artifacts-destination`). `mlflow gc --artifacts-destination` does not help: it is
 * only the store's default root for new experiments and never resolves an existing `mlflow-artifacts:` URI. Under
 * basic-auth the DELETE needs MANAGE on the experiment, so the pod logs in as the admin.
 *
 * Never overlaps (`concurrencyPolicy: Forbid`); the same KSA, restricted pod, Cloud SQL proxy native sidecar (it lets
 * the Job complete) as the migration Job; no service-account token. Why: docs/design.md#garbage-collection.
 * @see https://mlflow.org/docs/latest/cli.html#mlflow-gc
 */
export class GarbageCollection extends Construct {
  public readonly cronJob: kplus.CronJob;
  /** The `mlflow gc` container. */
  public readonly container: kplus.Container;

  constructor(scope: Construct, id: string, props: GarbageCollectionProps) {
    super(scope, id);
    // Five fields: the config's schedule rule (lib/config/cron.ts).
    const [minute, hour, day, month, weekDay] = props.schedule.trim().split(/\s+/);
    // The server's port (artifacts are deleted through its proxy); DNS, the database and Google APIs as the MLflow pods.
    props.network?.serverClientEgress(this, 'Egress', { name: 'mlflow-gc-egress', podLabels: props.selectorLabels ?? props.podLabels, dns: false });
    props.network?.addEgressComponent(props.selectorLabels ?? props.podLabels);

    this.cronJob = new kplus.CronJob(this, 'Resource', {
      metadata: { name: 'mlflow-gc' },
      schedule: Cron.schedule({ minute, hour, day, month, weekDay }),
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: STARTING_DEADLINE,
      successfulJobsRetained: JOBS_RETAINED,
      failedJobsRetained: JOBS_RETAINED,
      backoffLimit: BACKOFF_LIMIT,
      activeDeadline: ACTIVE_DEADLINE,
      podMetadata: { labels: props.podLabels },
      serviceAccount: props.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurityContext(),
      restartPolicy: kplus.RestartPolicy.NEVER,
      select: false,
    });
    addPodSeccomp(this.cronJob, `${POD_TEMPLATE}/spec`);
    removePathDerivedPodLabel(this.cronJob, POD_TEMPLATE);

    const auth = props.auth;
    const credentials = auth
      ? SecretManagerStore.of(this, { projectId: auth.secretProject, serviceAccount: props.serviceAccount }).secret(this, 'Credentials', {
          name: 'mlflow-gc-auth',
          remote: { username: auth.adminUsernameSecret, password: auth.adminPasswordSecret },
          template: { username: '{{ .username }}', password: '{{ .password }}' },
        })
      : undefined;
    this.container = this.cronJob.addContainer({
      name: 'gc',
      image: props.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: [
        'mlflow',
        'gc',
        '--backend-store-uri',
        '$(MLFLOW_BACKEND_STORE_URI)',
        '--older-than',
        `${props.olderThanDays}d`,
        '--tracking-uri',
        props.serverUrl,
      ],
      envVariables: {
        MLFLOW_BACKEND_STORE_URI: props.database.backendStoreUri,
        // One thread, one store: a pool of 1 + 1 bounds the connections the budget counts (GC_CONNECTIONS).
        MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: kplus.EnvValue.fromValue(String(GC_POOL.size)),
        MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: kplus.EnvValue.fromValue(String(GC_POOL.maxOverflow)),
        ...mlflowClientEnv(credentials),
      },
      securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
      resources: MLFLOW_TASK_RESOURCES,
      volumeMounts: [{ path: '/tmp', volume: kplus.Volume.fromEmptyDir(this, 'Tmp', 'gc-tmp', { sizeLimit: Size.mebibytes(256) }) }],
    });
    props.database.connect(this.cronJob, this.container);
    skipTagPinnedImageChecks(this.cronJob, props.image);
    skipSecretEnvCheck(this.cronJob, 'mlflow gc takes the backend store URI only on its command line (expanded from the variable by the kubelet) and the MLflow client its login from the environment');
  }
}
