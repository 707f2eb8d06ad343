import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { CERT_MANAGER, EXTERNAL_SECRETS, withGatewayApi, type Addon } from './addons';
import { ApplicationHealthCheck, ARGOCD_NAMESPACE, ArgoApplication, ArgoProject, IN_CLUSTER, type ClusterKind } from './argocd';
import { AcmeClusterIssuer, type AcmeClusterIssuerProps } from './cluster-issuer';
import { certManagerIssuerOf, type Server } from '../config/model';
import type { ServerWorkloads } from '../mlflow/mlflow-chart';
import { APP_PATHS, clientAppName, clientPath, clientsProjectName, projectName, ROOT_APP, servingAppName, servingName, servingPath } from '../names';
import { APP_SYNC_WAVES } from '../conventions';

type GitOpsConfig = NonNullable<Server['gitops']>;

/** Everything the GitOps side of one environment derives from its config. */
export interface GitOpsPlan {
  readonly environment: string;
  readonly project: string;
  readonly gitops: GitOpsConfig;
  readonly namespace: string;
  /** Path of the environment inside the repository (`dist/<env>`). */
  readonly distPath: string;
  readonly addons: readonly Addon[];
  /** ClusterIssuer to create (cert-manager add-on with an Ingress, or with a Gateway whose certificate cert-manager issues). */
  readonly clusterIssuer?: AcmeClusterIssuerProps & { readonly server: 'production' | 'staging' };
  /** The HPA-managed Deployments (Argo CD then ignores their replica counts). */
  readonly autoscaledDeployments: readonly string[];
  /** The server's clients: each gets an Application writing its credentials into its namespace. */
  readonly clients: ReadonlyArray<{ readonly name: string; readonly namespace: string }>;
  /** The served models' Deployments (each HPA-managed), in an Application of their own; empty: no such Application. */
  readonly servedDeployments: readonly string[];
}

/** Derives the GitOps plan of an environment, or undefined when it has no `gitops` section (e.g. `local`). */
export function gitOpsPlan(config: Server, workloads: ServerWorkloads): GitOpsPlan | undefined {
  const g = config.gitops;
  if (!g) return undefined;
  const exposure = config.exposure;
  // With a Gateway, cert-manager answers HTTP-01 through the Gateway's HTTP listener: that needs its Gateway API support.
  const solvesThroughGateway = exposure.mode === 'gateway' && exposure.certificate.source === 'cert-manager';
  const certManager = solvesThroughGateway ? withGatewayApi(CERT_MANAGER) : CERT_MANAGER;
  const addons = [...(g.addons?.externalSecrets ? [EXTERNAL_SECRETS] : []), ...(g.addons?.certManager ? [certManager] : [])];
  const issuerName = certManagerIssuerOf(exposure);
  const http01 =
    exposure.mode === 'ingress'
      ? { ingressClass: exposure.className }
      : { gateway: { name: workloads.http01Listener.gateway, namespace: config.namespace, sectionName: workloads.http01Listener.sectionName } };
  const clusterIssuer =
    g.addons?.certManager && issuerName !== undefined && g.addons.acmeEmail !== undefined
      ? { name: issuerName, email: g.addons.acmeEmail, server: g.addons.acmeServer ?? 'production', ...http01 }
      : undefined;
  return {
    environment: config.name,
    project: projectName(config.name),
    gitops: g,
    namespace: config.namespace,
    distPath: `dist/${config.name}`,
    addons,
    clusterIssuer,
    autoscaledDeployments: workloads.autoscaledDeployments,
    clients: config.clients.map((c) => ({ name: c.name, namespace: c.namespace })),
    servedDeployments: config.serving.map((s) => servingName(s.name)),
  };
}

/** The ClusterIssuer a server's plan asks for. */
export type ClusterIssuerPlan = NonNullable<GitOpsPlan['clusterIssuer']>;

/** One MLflow server's Argo CD Application inside its environment's root app. */
export interface ServerApplication {
  /** Application name: `mlflow-<env>`, or `mlflow-<env>-<instance>` for one of several instances. */
  readonly name: string;
  /** Its folder under `dist/<env>/` (its `source.path`): `mlflow`, or the instance's name. */
  readonly path: string;
  readonly namespace: string;
  /** Its HPA-managed Deployments. */
  readonly autoscaledDeployments: readonly string[];
  /** Its clients' Applications. */
  readonly clients: readonly ClientApplication[];
  /** Its served models' Application, when it serves any. */
  readonly serving?: ServingApplication;
}

/** A server's served models' Argo CD Application: their objects in the server's namespace, synced apart from the server. */
export interface ServingApplication {
  /** `mlflow-<server>-serving`. */
  readonly name: string;
  /** Its folder under `dist/<env>/`: `serving/<server folder>`. */
  readonly path: string;
  /** The served models' Deployments, each HPA-managed. */
  readonly autoscaledDeployments: readonly string[];
}

/** A client's Argo CD Application: its credentials in its namespace. */
export interface ClientApplication {
  /** `mlflow-<server>-client-<client>`. */
  readonly name: string;
  /** Its folder under `dist/<env>/`: `clients/<server folder>/<client>`. */
  readonly path: string;
  /** The client's namespace (the Application's destination). */
  readonly namespace: string;
}

/**
 * The GitOps side of a whole environment — one root app, one AppProject, the shared add-ons and ClusterIssuers —
 * over its MLflow servers: one for a single-server file, one per instance otherwise.
 */
export interface EnvironmentPlan {
  readonly environment: string;
  readonly project: string;
  readonly gitops: GitOpsConfig;
  /** Path of the environment inside the repository (`dist/<env>`). */
  readonly distPath: string;
  readonly addons: readonly Addon[];
  /** ClusterIssuers to create, each once (servers naming the same issuer share it). */
  readonly clusterIssuers: readonly ClusterIssuerPlan[];
  readonly servers: readonly ServerApplication[];
}

/** Thrown when the servers of one environment ask for incompatible shared objects. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * The plan of an environment from the plans of its servers (each from {@link gitOpsPlan} of one server's
 * config) and their folders. The add-ons and ClusterIssuers are shared: each appears once; two servers that
 * derive different settings for one ClusterIssuer name are refused ({@link PlanError}).
 */
export function environmentPlan(environment: string, servers: ReadonlyArray<{ readonly plan: GitOpsPlan; readonly path: string }>): EnvironmentPlan {
  const first = servers[0]?.plan;
  if (first === undefined) throw new PlanError(`environment ${environment}: no server to plan`);
  const addons = new Map<string, Addon>();
  const issuers = new Map<string, { issuer: ClusterIssuerPlan; server: string }>();
  for (const { plan } of servers) {
    for (const a of plan.addons) if (!addons.has(a.name)) addons.set(a.name, a);
    const issuer = plan.clusterIssuer;
    if (issuer === undefined) continue;
    const seen = issuers.get(issuer.name);
    if (seen === undefined) issuers.set(issuer.name, { issuer, server: plan.project });
    else if (JSON.stringify(seen.issuer) !== JSON.stringify(issuer)) {
      throw new PlanError(
        `ClusterIssuer '${issuer.name}' is shared by ${seen.server} (${JSON.stringify(seen.issuer)}) and ${plan.project} (${JSON.stringify(issuer)}), ` +
          'which derive different settings for it: give their exposures different clusterIssuer names, or the same settings',
      );
    }
  }
  const result: EnvironmentPlan = {
    environment,
    project: projectName(environment),
    gitops: first.gitops,
    distPath: `dist/${environment}`,
    addons: [...addons.values()],
    clusterIssuers: [...issuers.values()].map((i) => i.issuer),
    servers: servers.map(({ plan, path }) => ({
      name: plan.project,
      path,
      namespace: plan.namespace,
      autoscaledDeployments: plan.autoscaledDeployments,
      clients: plan.clients.map((c) => ({ name: clientAppName(plan.environment, c.name), path: clientPath(path, c.name), namespace: c.namespace })),
      ...(plan.servedDeployments.length > 0
        ? { serving: { name: servingAppName(plan.environment), path: servingPath(path), autoscaledDeployments: plan.servedDeployments } }
        : {}),
    })),
  };
  // A server's, a client's and a serving Application could meet (instance `a-client-b` beside instance `a`'s client
  // `b`; instance `a-serving` beside instance `a`'s served models).
  const names = result.servers.flatMap((s) => [s.name, ...s.clients.map((c) => c.name), ...(s.serving ? [s.serving.name] : [])]);
  const twice = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (twice.length > 0) {
    throw new PlanError(`two Applications would be named ${twice.map((n) => `'${n}'`).join(', ')}: rename the instance, the client or the serving`);
  }
  return result;
}

/** The client namespaces of an environment, each once: the destinations of its clients' AppProject. */
export function clientNamespaces(plan: EnvironmentPlan): string[] {
  return [...new Set(plan.servers.flatMap((s) => s.clients.map((c) => c.namespace)))];
}

/**
 * The child Applications of an environment (the root app's path, `dist/<env>/apps`): each MLflow server, and the
 * optional add-ons and ClusterIssuer, each in its wave.
 */
export class ApplicationsChart extends Chart {
  constructor(scope: Construct, id: string, plan: EnvironmentPlan) {
    super(scope, id);
    const g = plan.gitops;
    const fromRepo = (path: string) => ({ repoURL: g.repoURL, targetRevision: g.targetRevision, path: `${plan.distPath}/${path}` });

    for (const addon of plan.addons) {
      new ArgoApplication(this, addon.name, {
        name: `${plan.project}-${addon.name}`,
        project: plan.project,
        source: { repoURL: addon.repoURL, chart: addon.chart, targetRevision: addon.version, releaseName: addon.name, values: addon.values },
        destination: { server: g.destinationServer, namespace: addon.namespace },
        syncWave: APP_SYNC_WAVES.addons,
        createNamespace: true,
      });
    }
    if (plan.clusterIssuers.length > 0) {
      new ArgoApplication(this, 'ClusterIssuer', {
        name: `${plan.project}-cluster-issuer`,
        project: plan.project,
        source: fromRepo(APP_PATHS.clusterIssuer),
        destination: { server: g.destinationServer, namespace: CERT_MANAGER.namespace },
        syncWave: APP_SYNC_WAVES.clusterIssuer,
      });
    }
    for (const server of plan.servers) {
      new ArgoApplication(this, `Mlflow-${server.path}`, {
        name: server.name,
        project: plan.project,
        source: fromRepo(server.path),
        // The app owns its labelled Namespace object: CreateNamespace stays off.
        destination: { server: g.destinationServer, namespace: server.namespace },
        syncWave: APP_SYNC_WAVES.mlflow,
        hpaManaged: server.autoscaledDeployments.map((name) => ({ name, namespace: server.namespace })),
      });
      for (const client of server.clients) {
        new ArgoApplication(this, client.name, {
          name: client.name,
          project: clientsProjectName(plan.environment),
          source: fromRepo(client.path),
          // The client's team owns its namespace: the Application neither renders nor creates it.
          destination: { server: g.destinationServer, namespace: client.namespace },
          // Beside the server, not after it: a client's credentials need the operator's CRDs, not a healthy server.
          syncWave: APP_SYNC_WAVES.mlflow,
        });
      }
      if (server.serving !== undefined) {
        new ArgoApplication(this, server.serving.name, {
          name: server.serving.name,
          project: plan.project,
          source: fromRepo(server.serving.path),
          // The server's namespace, which the server's Application owns: never created here.
          destination: { server: g.destinationServer, namespace: server.namespace },
          // After the server, and apart from it: a served model that cannot start never holds up the server's sync.
          syncWave: APP_SYNC_WAVES.serving,
          hpaManaged: server.serving.autoscaledDeployments.map((name) => ({ name, namespace: server.namespace })),
        });
      }
    }
  }
}

/** The ClusterIssuer application's objects (`dist/<env>/cluster-issuer`): every issuer the servers ask for. */
export class ClusterIssuerChart extends Chart {
  constructor(scope: Construct, id: string, issuers: readonly ClusterIssuerPlan[]) {
    super(scope, id);
    for (const issuer of issuers) new AcmeClusterIssuer(this, `Issuer-${issuer.name}`, issuer);
  }
}

/** Props of {@link BootstrapChart}. */
export interface BootstrapChartProps {
  readonly plan: EnvironmentPlan;
  /** Cluster-scoped kinds the path-based applications render (from the synthesized objects). */
  readonly renderedClusterKinds: readonly ClusterKind[];
  /**
   * Kinds the clients' applications render (namespaced only): the only kinds their AppProject allows.
   * @default - none (an environment without clients has no clients' AppProject)
   */
  readonly renderedClientKinds?: readonly ClusterKind[];
}

/**
 * What a person applies once per environment (`argocd/<env>`, its kustomization): the AppProject and the root
 * Application (app-of-apps over `dist/<env>/apps`). The argocd-cm health check is {@link HealthCheckChart}.
 */
export class BootstrapChart extends Chart {
  constructor(scope: Construct, id: string, props: BootstrapChartProps) {
    super(scope, id);
    const { plan } = props;
    const g = plan.gitops;

    const clusterKinds = dedupeKinds([...props.renderedClusterKinds, ...plan.addons.flatMap((a) => a.clusterKinds)]);
    const project = new ArgoProject(this, 'Project', {
      name: plan.project,
      description: `MLflow ${plan.environment}: rendered manifests from ${plan.distPath}`,
      sourceRepos: [g.repoURL, ...plan.addons.map((a) => a.repoURL)],
      destinations: [
        // The root app writes child Applications next to Argo CD.
        { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
        ...plan.servers.map((s) => ({ server: g.destinationServer, namespace: s.namespace })),
        // Add-on namespaces (the ClusterIssuer app targets cert-manager's, which it only exists with).
        ...plan.addons.map((a) => ({ server: g.destinationServer, namespace: a.namespace })),
      ],
      clusterResourceWhitelist: clusterKinds,
    });

    // The clients' Applications write into namespaces other teams own: a project of their own allows exactly those
    // namespaces and the kinds the credentials need, nothing cluster-wide; the server's project does not reach them.
    const clientDestinations = clientNamespaces(plan);
    if (clientDestinations.length > 0) {
      new ArgoProject(this, 'ClientsProject', {
        name: clientsProjectName(plan.environment),
        description: `MLflow ${plan.environment}: the clients' credentials, rendered from ${plan.distPath}/${APP_PATHS.clients}`,
        sourceRepos: [g.repoURL],
        destinations: clientDestinations.map((namespace) => ({ server: g.destinationServer, namespace })),
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: dedupeKinds(props.renderedClientKinds ?? []),
      });
    }

    new ArgoApplication(this, 'Root', {
      name: `${plan.project}-${ROOT_APP}`,
      project: project.name,
      source: { repoURL: g.repoURL, targetRevision: g.targetRevision, path: `${plan.distPath}/${APP_PATHS.apps}` },
      destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
      syncWave: 0,
      cascadeDelete: false,
    });
  }
}

/**
 * The argocd-cm health check the root app needs to wait for its children's waves (`argocd/<env>/`, outside the
 * kustomization: see {@link ApplicationHealthCheck} for how it is applied).
 */
export class HealthCheckChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new ApplicationHealthCheck(this, 'ApplicationHealth');
  }
}

/** Kinds that exist cluster-wide (no namespace), among those this project renders or its add-ons create. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'ClusterIssuer',
  'ClusterSecretStore',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'StorageClass',
  'PersistentVolume',
  'GatewayClass',
]);

/** The cluster-scoped kinds among rendered objects, as AppProject entries. */
export function clusterKindsOf(manifests: ReadonlyArray<{ apiVersion: string; kind: string }>): ClusterKind[] {
  return dedupeKinds(
    manifests
      .filter((m) => CLUSTER_SCOPED_KINDS.has(m.kind))
      .map((m) => ({ group: m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '', kind: m.kind })),
  );
}

function dedupeKinds(kinds: readonly ClusterKind[]): ClusterKind[] {
  const seen = new Set<string>();
  return kinds
    .filter((k) => {
      const key = `${k.group}/${k.kind}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => `${a.group}/${a.kind}`.localeCompare(`${b.group}/${b.kind}`));
}
