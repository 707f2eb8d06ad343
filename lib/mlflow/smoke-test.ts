import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Credentials } from '../config/model';
import type { NetworkPolicies } from './network-policies';
import { SecretManagerStore } from './secret-store';
import { MLFLOW_TASK_RESOURCES, mlflowClientEnv } from './client-env';
import {
  MLFLOW_UID,
  hookJob,
  restrictedContainerSecurityContext,
} from '../conventions';
import { skipSecretEnvCheck, skipTagPinnedImageChecks } from '../policy/checkov';

/** The smoke test script, shipped in a ConfigMap (read from the repository at synth time). */
const SCRIPT_FILE = path.join(__dirname, 'scripts', 'smoke.py');
const SCRIPT_DIR = '/opt/mlflow-smoke';

/** Props of {@link SmokeTest}. */
export interface SmokeTestProps {
  /** The MLflow image (same tag and digest as the server: the client that ships with it). */
  readonly image: string;
  readonly serviceAccount: kplus.ServiceAccount;
  /** The server as in-cluster clients reach it: its Service DNS name and port. */
  readonly serverUrl: string;
  /**
   * Secret with the smoke user's `username` and `password` (`mlflow-smoke-auth`, the {@link SmokeUser}'s).
   * @default - no credentials: the server runs without basic-auth
   */
  readonly credentials?: kplus.ISecret;
  /** Labels of the Job's pod (the network policies admit it to the server by them). */
  readonly podLabels: Record<string, string>;
  /**
   * The labels that select those pods (a subset of `podLabels`), by which the network policies admit them.
   * @default - the pod labels
   */
  readonly selectorLabels?: Record<string, string>;
  /**
   * The namespace's network policies: this feature adds the rules it needs to them.
   * @default - no NetworkPolicy rules
   */
  readonly network?: NetworkPolicies;
}

/**
 * Retries of a failed pod. None: the script already waits for `/health`, and a failure must fail the sync with the
 * first message, not after a retry with the same result.
 */
const BACKOFF_LIMIT = 0;
/** Deadline of the whole Job (a hung server fails the sync instead of holding it). */
const ACTIVE_DEADLINE = Duration.minutes(10);

/**
 * Every deploy proves itself: an Argo CD **PostSync** hook Job — it runs once every resource of the sync is healthy,
 * and its failure fails the sync — that runs `lib/mlflow/scripts/smoke.py` from a ConfigMap: the client round trip
 * (experiment, run, params, metrics, a proxied artifact upload and download, a registered model version resolved by
 * alias) as a plain, non-admin smoke user, cleaning up after itself. Re-created on each sync (`BeforeHookCreation`),
 * so the last result stays inspectable until the next one.
 *
 * It talks to the server over HTTP through the Service only: no database, so no Cloud SQL proxy, and no cloud
 * credentials — the network policies give it DNS and the server's port and nothing else, so an artifact that does
 * not go through the server's proxy fails here instead of silently working with the pod's own identity.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/resource_hooks/
 */
export class SmokeTest extends Construct {
  public readonly job: kplus.Job;

  constructor(scope: Construct, id: string, props: SmokeTestProps) {
    super(scope, id);
    const configMap = new kplus.ConfigMap(this, 'Script', {
      metadata: { name: 'mlflow-smoke-script' },
      data: { 'smoke.py': fs.readFileSync(SCRIPT_FILE, 'utf8') },
    });

    this.job = hookJob(this, 'Resource', {
      name: 'mlflow-smoke',
      phase: 'PostSync',
      serviceAccount: props.serviceAccount,
      podLabels: props.podLabels,
      backoffLimit: BACKOFF_LIMIT,
      activeDeadline: ACTIVE_DEADLINE,
    });
    // DNS and the server's port, nothing else: no metadata server or Google APIs, so artifacts can only travel
    // through the server's proxy (the thing the smoke test proves).
    props.network?.serverClientEgress(this, 'Egress', { name: 'mlflow-smoke-egress', podLabels: props.selectorLabels ?? props.podLabels, dns: true });

    const credentials = props.credentials;
    this.job.addContainer({
      name: 'smoke',
      image: props.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['python', `${SCRIPT_DIR}/smoke.py`],
      envVariables: {
        MLFLOW_TRACKING_URI: kplus.EnvValue.fromValue(props.serverUrl),
        ...mlflowClientEnv(credentials),
      },
      securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
      resources: MLFLOW_TASK_RESOURCES,
      volumeMounts: [
        { path: SCRIPT_DIR, volume: kplus.Volume.fromConfigMap(this, 'ScriptVolume', configMap, { name: 'smoke-script' }), readOnly: true },
        { path: '/tmp', volume: kplus.Volume.fromEmptyDir(this, 'Tmp', 'smoke-tmp', { sizeLimit: Size.mebibytes(256) }) },
      ],
    });
    skipTagPinnedImageChecks(this.job, props.image);
    skipSecretEnvCheck(this.job, "the MLflow client takes its login from these variables (its only file form, ~/.mlflow/credentials, would hold the same Secret in the same container)");
  }
}

/** Props of {@link SmokeUser}. */
export interface SmokeUserProps {
  readonly credentials: Credentials;
  /** The GCP project whose Secret Manager holds the password. */
  readonly secretProject: string;
  /** The KSA the SecretStore reads Secret Manager as. */
  readonly serviceAccount: kplus.ServiceAccount;
}

/**
 * The plain MLflow user the smoke test logs in as (basic-auth): its ExternalSecret `mlflow-smoke-auth`. The migration
 * creates the user from it; the PostSync {@link SmokeTest} and `npm run smoke` log in with it.
 */
export class SmokeUser extends Construct {
  /** Secret with keys `username` and `password`. */
  public readonly secret: kplus.ISecret;

  constructor(scope: Construct, id: string, props: SmokeUserProps) {
    super(scope, id);
    this.secret = SecretManagerStore.of(this, { projectId: props.secretProject, serviceAccount: props.serviceAccount }).userSecret(
      this,
      'Credentials',
      'mlflow-smoke-auth',
      props.credentials,
    );
  }
}
