import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
  ExternalSecretSpecTargetDeletionPolicy,
  ExternalSecretSpecTargetTemplateEngineVersion,
} from '../../imports/externalsecret-external-secrets.io';
import { SecretStore } from '../../imports/secretstore-external-secrets.io';

/** Props of {@link SecretManagerStore}. */
export interface SecretManagerStoreProps {
  /** GCP project holding the Secret Manager secrets. */
  readonly projectId: string;
  /** The KSA whose Workload Identity reads Secret Manager (its GSA needs `roles/secretmanager.secretAccessor`). */
  readonly serviceAccount: kplus.IServiceAccount;
  /**
   * The store's name, referenced by its ExternalSecrets.
   * @default SecretManagerStore.NAME
   */
  readonly name?: string;
}

/**
 * How often ESO re-reads Secret Manager, in Go's normalized duration form (Argo CD would otherwise show
 * perpetual drift against the API server's normalized value).
 */
const REFRESH_INTERVAL = '1h0m0s';

/** The store's construct id in its chart. */
const STORE_ID = 'SecretStore';

/** A credential a feature creates with {@link SecretManagerStore.secret}: remote Secret Manager ids → a templated Secret. */
export interface ExternalSecretProps {
  /** Name of the ExternalSecret and of the Secret ESO creates. */
  readonly name: string;
  /** Template key → Secret Manager secret id. */
  readonly remote: Record<string, string>;
  /** Secret key → ESO template over the remote keys. */
  readonly template: Record<string, string>;
}

/**
 * The namespaced `SecretStore` (External Secrets Operator, `external-secrets.io/v1`) that reads GCP Secret Manager
 * as the app's own KSA: the shared piece every feature that needs a credential uses. Each feature creates its own
 * ExternalSecret with {@link secret} (the database its backend URI, basic-auth its ini, metrics, smoke test and gc
 * the users they log in as), so a feature's credential is rendered exactly when the feature is. One store per
 * chart, created by the first that asks ({@link SecretManagerStore.of}). Nothing secret is rendered into git: the
 * Secrets are created in the cluster by ESO from templates.
 * @see https://external-secrets.io/latest/provider/google-secrets-manager/
 */
export class SecretManagerStore extends Construct {
  /** The server's store's name, referenced by every ExternalSecret of its chart. */
  public static readonly NAME = 'gcp-secret-manager';

  /** The chart's store, created on first use (every feature of one server reads the same project as the same KSA). */
  public static of(scope: Construct, props: SecretManagerStoreProps): SecretManagerStore {
    const chart = Chart.of(scope);
    const existing = chart.node.tryFindChild(STORE_ID);
    return existing instanceof SecretManagerStore ? existing : new SecretManagerStore(chart, STORE_ID, props);
  }

  /** This store's name. */
  public readonly name: string;

  private constructor(scope: Construct, id: string, props: SecretManagerStoreProps) {
    super(scope, id);
    this.name = props.name ?? SecretManagerStore.NAME;
    new SecretStore(this, 'Resource', {
      metadata: { name: this.name },
      spec: {
        provider: {
          gcpsm: {
            projectId: props.projectId,
            // Cluster name/location/project are read from the GKE metadata server.
            auth: { workloadIdentity: { serviceAccountRef: { name: props.serviceAccount.name } } },
          },
        },
      },
    });
  }

  /** One ExternalSecret in `scope` (the feature that needs it): remote Secret Manager ids → template → a Secret owned by ESO. */
  public secret(scope: Construct, id: string, props: ExternalSecretProps): kplus.ISecret {
    new ExternalSecret(scope, id, {
      metadata: { name: props.name },
      spec: {
        refreshInterval: REFRESH_INTERVAL,
        secretStoreRef: { kind: ExternalSecretSpecSecretStoreRefKind.SECRET_STORE, name: this.name },
        target: {
          name: props.name,
          creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER,
          deletionPolicy: ExternalSecretSpecTargetDeletionPolicy.RETAIN,
          template: { engineVersion: ExternalSecretSpecTargetTemplateEngineVersion.V2, type: 'Opaque', data: props.template },
        },
        data: Object.entries(props.remote).map(([secretKey, key]) => ({ secretKey, remoteRef: { key } })),
      },
    });
    return kplus.Secret.fromSecretName(scope, `${id}Ref`, props.name);
  }

  /** A user's `username` (inline: not a secret) and `password` (from Secret Manager), for a client that logs in as it. */
  public userSecret(scope: Construct, id: string, name: string, user: { readonly username: string; readonly passwordSecret: string }): kplus.ISecret {
    return this.secret(scope, id, { name, remote: { password: user.passwordSecret }, template: { username: user.username, password: '{{ .password }}' } });
  }
}
