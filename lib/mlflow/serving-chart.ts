import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { environmentOf, type Server } from '../config/model';
import { applySyncWaves, applyVersionLabel, selectorLabels, standardLabels } from '../conventions';
import { promoteCommand, SERVER_NAME, servingName } from '../names';
import { COMPONENTS, imageReference, mlflowVersion } from './mlflow-chart';
import { SecretManagerStore } from './secret-store';
import { ServedModelDeployment } from './served-model';
import { inClusterUrl, MLFLOW_PORT } from './tracking-server';

/** Props of {@link ServingChart}. */
export interface ServingChartProps {
  /** The resolved server whose `serving` entries are rendered. */
  readonly config: Server;
}

/**
 * A server's served models (`dist/<env>/serving/<server folder>`), in the server's namespace but in an Argo CD
 * Application of their own: a model the platform does not control (not registered yet, an alias moved to a version
 * the serving user may not read) keeps its pods from becoming healthy, and inside the server's Application that
 * would hold up the server's sync, its later waves and its PostSync smoke test. Why, in full: docs/clients.md#serving.
 * The server's chart admits the serving pods on its port; this chart holds their own objects and a Secret Manager
 * store of its own (a chart has one), which reads as the server's KSA, referenced by name.
 */
export class ServingChart extends Chart {
  /** The HPA-managed Deployments of this Application (Argo CD ignores their replica counts): every served model's. */
  public readonly autoscaledDeployments: readonly string[];

  constructor(scope: Construct, id: string, props: ServingChartProps) {
    const c = props.config;
    const labels = standardLabels(c.name);
    super(scope, id, { namespace: c.namespace, labels });
    // The config guards allow serving only with basic-auth, whose secrets are in its project.
    const projectId = c.auth?.secretProject;
    if (projectId === undefined) throw new Error(`serving of ${c.name} without basic-auth`);
    const store = SecretManagerStore.of(this, {
      projectId,
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(this, 'ServerServiceAccount', SERVER_NAME),
      name: ServingChart.STORE_NAME,
    });
    const image = imageReference(c.image);
    const served = c.serving.map(
      (s) =>
        new ServedModelDeployment(this, `Serving-${s.name}`, {
          served: s,
          image,
          serverUrl: inClusterUrl(c.namespace),
          store,
          podLabels: { ...labels, ...selectorLabels(c.name, servingName(s.name)) },
          selectorLabels: selectorLabels(c.name, servingName(s.name)),
          serverLabels: selectorLabels(c.name, COMPONENTS.server),
          serverPort: MLFLOW_PORT,
          promoteCommand: promoteCommand(environmentOf(c), s.name),
        }),
    );
    this.autoscaledDeployments = served.map((s) => s.deployment.name);
    applySyncWaves(this);
    applyVersionLabel(this, mlflowVersion(c.image.tag));
  }

  /** The served models' store: beside the server's (`SecretManagerStore.NAME`) in the same namespace. */
  public static readonly STORE_NAME = `${SecretManagerStore.NAME}-serving`;
}
