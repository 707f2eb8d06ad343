import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { Client, Server } from '../config/model';
import { applySyncWaves, standardLabels } from '../conventions';
import { inClusterUrl } from '../mlflow/tracking-server';
import { clientObjectName } from '../names';
import { ClientCredentials } from './client-credentials';

/** Props of {@link ClientChart}. */
export interface ClientChartProps {
  /** The server the client uses. */
  readonly server: Server;
  /** One of its `clients`. */
  readonly client: Client;
}

/**
 * What one client's Argo CD Application writes into the client's namespace (`dist/<env>/clients/<server>/<client>`):
 * its credentials, nothing else. No Namespace object: the client's team owns its namespace (its labels, its Pod
 * Security level, its other workloads); the Application does not create it either, so a missing namespace fails
 * the sync visibly instead of appearing unowned.
 */
export class ClientChart extends Chart {
  constructor(scope: Construct, id: string, props: ClientChartProps) {
    const { server, client } = props;
    super(scope, id, { namespace: client.namespace, labels: standardLabels(server.name) });
    // The guards allow clients only with basic-auth, whose secrets are in the server's project.
    const projectId = server.auth?.secretProject;
    if (projectId === undefined) throw new Error(`client ${client.name} of ${server.name} without basic-auth`);
    new ClientCredentials(this, 'Credentials', {
      name: clientObjectName(server.name, client.name),
      googleServiceAccountEmail: client.serviceAccountEmail,
      projectId,
      trackingUri: inClusterUrl(server.namespace),
      user: client.user,
    });
    applySyncWaves(this);
  }
}
