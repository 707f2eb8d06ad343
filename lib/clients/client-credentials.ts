import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Credentials } from '../config/model';
import { SecretManagerStore } from '../mlflow/secret-store';
import { WorkloadIdentity } from '../mlflow/workload-identity';

/** Props of {@link ClientCredentials}. */
export interface ClientCredentialsProps {
  /** Name of the ServiceAccount, the SecretStore, the ExternalSecret and the Secret (`clientObjectName`). */
  readonly name: string;
  /** The client's Google service account: the ServiceAccount impersonates it, and it may read only the client's password. */
  readonly googleServiceAccountEmail: string;
  /** GCP project of the Secret Manager secret. */
  readonly projectId: string;
  /** The server's in-cluster URL (`MLFLOW_TRACKING_URI`). */
  readonly trackingUri: string;
  /** The client's MLflow user: its name (written inline) and the Secret Manager id of its password. */
  readonly user: Credentials;
}

/** The Secret's keys: the environment variables MLflow's client reads, so a pod takes them with `envFrom`. */
export const CLIENT_SECRET_KEYS = {
  uri: 'MLFLOW_TRACKING_URI',
  username: 'MLFLOW_TRACKING_USERNAME',
  password: 'MLFLOW_TRACKING_PASSWORD',
} as const;

/**
 * A client's credentials in its own namespace, without anyone copying a password: a ServiceAccount bound to the
 * client's Google service account (Workload Identity), a SecretStore that reads Secret Manager as it, and an
 * ExternalSecret that writes a Secret with the tracking URI, the user name and the password from Secret Manager.
 * The Google service account may read that one secret only (terraform/clients.tf), so the store in the client's
 * namespace can read nothing else of the server's. No key file: the token comes from the GKE metadata server.
 * Why: docs/clients.md.
 * @see https://external-secrets.io/latest/provider/google-secrets-manager/
 */
export class ClientCredentials extends Construct {
  /** The Secret ESO writes (keys {@link CLIENT_SECRET_KEYS}). */
  public readonly secret: kplus.ISecret;

  constructor(scope: Construct, id: string, props: ClientCredentialsProps) {
    super(scope, id);
    const { serviceAccount } = new WorkloadIdentity(this, 'Identity', { name: props.name, googleServiceAccountEmail: props.googleServiceAccountEmail });
    const store = SecretManagerStore.of(this, { projectId: props.projectId, serviceAccount, name: props.name });
    this.secret = store.secret(this, 'Credentials', {
      name: props.name,
      remote: { password: props.user.passwordSecret },
      template: {
        [CLIENT_SECRET_KEYS.uri]: props.trackingUri,
        [CLIENT_SECRET_KEYS.username]: props.user.username,
        [CLIENT_SECRET_KEYS.password]: '{{ .password }}',
      },
    });
  }
}
