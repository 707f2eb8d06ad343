/**
 * The names the MLflow side and the GitOps side must agree on, in one place: the Argo CD project and Application
 * names of an environment, the folders under `dist/<env>/`, the instance names those reserve, and the name of the
 * server's workload objects (Deployment, Service, HPA), and the Argo CD annotation keys the renderer writes and the
 * review tooling reads. No imports: the tooling loads it without cdk8s.
 */

/** Name of the server's Deployment, Service, HorizontalPodAutoscaler and ServiceAccount in its namespace. */
export const SERVER_NAME = 'mlflow';

/** The Argo CD project of an environment, the prefix of its Applications and the `app.kubernetes.io/instance` value: `mlflow-<env>`. */
export function projectName(environment: string): string {
  return `mlflow-${environment}`;
}

/** Folders of an environment's output, each the `source.path` of one Argo CD Application (under `dist/<env>/`). */
export const APP_PATHS = {
  mlflow: 'mlflow',
  apps: 'apps',
  clusterIssuer: 'cluster-issuer',
  /** The clients' applications: `clients/<server folder>/<client>/` ({@link clientPath}). */
  clients: 'clients',
  /** The served models' applications: `serving/<server folder>/` ({@link servingPath}). */
  serving: 'serving',
} as const;

/** The root Application's suffix: `mlflow-<env>-root`. */
export const ROOT_APP = 'root';

/** The add-ons' Application suffixes (`mlflow-<env>-external-secrets`) and release names. */
export const ADDON_NAMES = { externalSecrets: 'external-secrets', certManager: 'cert-manager' } as const;

/**
 * Names an instance may not take: the folders and Application suffixes `dist/<env>/` already has (the root app's
 * `apps`, `cluster-issuer`, the clients' `clients`, the served models' `serving`; Applications `mlflow-<env>-root`,
 * `-external-secrets`, `-cert-manager`, `-cluster-issuer`, `-serving`).
 */
export const RESERVED_INSTANCE_NAMES: readonly string[] = [
  APP_PATHS.apps,
  ADDON_NAMES.certManager,
  APP_PATHS.clients,
  APP_PATHS.clusterIssuer,
  ADDON_NAMES.externalSecrets,
  ROOT_APP,
  APP_PATHS.serving,
].sort();

/**
 * A client's folder under `dist/<env>/` (its Application's `source.path`): `clients/<server folder>/<client>`, so
 * neither two servers' clients nor a client and an instance can share a folder.
 */
export function clientPath(serverPath: string, client: string): string {
  return `${APP_PATHS.clients}/${serverPath}/${client}`;
}

/** A client's Argo CD Application: `mlflow-<server>-client-<client>`. */
export function clientAppName(server: string, client: string): string {
  return `${projectName(server)}-client-${client}`;
}

/**
 * The objects rendered in a client's namespace (ServiceAccount, SecretStore, ExternalSecret and the Secret its pods
 * read): `mlflow-<server>-<client>`. The server's name keeps two environments' (or instances') clients of one
 * namespace apart; Terraform binds the ServiceAccount by this name (`terraform/clients.tf`).
 */
export function clientObjectName(server: string, client: string): string {
  return `${projectName(server)}-${client}`;
}

/**
 * A server's served models' folder under `dist/<env>/` (their Application's `source.path`): `serving/<server folder>`.
 */
export function servingPath(serverPath: string): string {
  return `${APP_PATHS.serving}/${serverPath}`;
}

/** A server's served models' Argo CD Application: `mlflow-<server>-serving`. */
export function servingAppName(server: string): string {
  return `${projectName(server)}-serving`;
}

/** The AppProject of an environment's client applications: `mlflow-<env>-clients`. */
export function clientsProjectName(environment: string): string {
  return `${projectName(environment)}-clients`;
}

/** Argo CD's sync-wave annotation: objects of a lower wave are applied (and healthy) first. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
/** Argo CD's resource-hook annotation: the phase (`Sync`, `PostSync`…) a hook runs in. */
export const HOOK_ANNOTATION = 'argocd.argoproj.io/hook';
/** Argo CD's hook deletion policy annotation. */
export const HOOK_DELETE_POLICY_ANNOTATION = 'argocd.argoproj.io/hook-delete-policy';

/**
 * A served model's objects in the server's namespace (Deployment, Service, HPA, PDB, ServiceAccount, ConfigMap,
 * NetworkPolicy) and the MLflow user it reads the registry as: `serve-<serving name>`.
 */
export function servingName(serving: string): string {
  return `serve-${serving}`;
}

/**
 * Annotation on a served model's pod template: its `serving[].promotion` count. Raising it changes the template, so
 * the Deployment rolls out and the new pods resolve the alias again; the review diff shows it.
 */
export const PROMOTION_ANNOTATION = 'mlflow-gitops/promotion';

/** The command that promotes a served model (raises its promotion count): what the docs and the pods' messages name. */
export function promoteCommand(environment: string, serving: string): string {
  return `npm run promote -- ${environment} ${serving}`;
}
