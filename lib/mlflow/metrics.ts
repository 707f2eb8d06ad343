import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PodMonitoring, PodMonitoringSpecEndpointsPort } from '../../imports/podmonitoring-monitoring.googleapis.com';
import { ServiceMonitor } from '../../imports/servicemonitor-monitoring.coreos.com';
import type { Credentials } from '../config/model';
import { DEFAULT_GKE_CLUSTER_KIND, type GkeClusterKind } from '../config/schema';
import { namespacePeer, type NetworkPolicies } from './network-policies';
import { SecretManagerStore } from './secret-store';

/** How metrics are collected. */
export type MetricsMode = 'gmp' | 'prometheus-operator';

/** The user the collector logs in as when basic-auth protects `/metrics`, and its Secret. */
export interface ScrapeCredentials {
  /** The MLflow user the collector logs in as (GMP takes the name inline; it is not a secret). */
  readonly username: string;
  /** Secret with keys `username` and `password` (the ExternalSecret `mlflow-metrics-auth`). */
  readonly secret: kplus.ISecret;
}

/** Props of {@link Metrics}. */
export interface MetricsProps {
  /**
   * The namespace's network policies: this feature adds the rules it needs to them.
   * @default - no NetworkPolicy rules
   */
  readonly network?: NetworkPolicies;
  readonly mode: MetricsMode;
  /** Labels of the server pods (PodMonitoring) and of the Service (ServiceMonitor). */
  readonly selectorLabels: Record<string, string>;
  /** Name of the container/Service port serving `/metrics`. */
  readonly portName: string;
  /**
   * The user the collector logs in as, when basic-auth is on (MLflow then answers `/metrics` with 401 to anonymous
   * requests): its ExternalSecret `mlflow-metrics-auth` is read from `secretProject` as `serviceAccount`.
   * @default - anonymous scrape
   */
  readonly user?: { readonly credentials: Credentials; readonly secretProject: string; readonly serviceAccount: kplus.ServiceAccount };
  /**
   * The GKE cluster's mode of operation: GMP's collectors run in a namespace of its own on each
   * ({@link GMP_NAMESPACES}).
   * @default 'standard'
   */
  readonly clusterKind?: GkeClusterKind;
}

/** Scrape interval, in Prometheus duration form. */
const INTERVAL = '30s';

/**
 * Namespace of GMP's managed collectors (DaemonSet and ServiceAccount `collector`), by GKE mode of operation.
 * Why: docs/design.md#security-and-availability.
 * @see https://cloud.google.com/stackdriver/docs/managed-prometheus/setup-managed
 */
export const GMP_NAMESPACES: Record<GkeClusterKind, string> = { standard: 'gmp-system', autopilot: 'gke-gmp-system' };
/** Namespace of the Prometheus that prometheus-operator runs (kube-prometheus' default). */
export const PROMETHEUS_NAMESPACE = 'monitoring';

/**
 * Scrape configuration for MLflow's `/metrics` (`--expose-prometheus`): a GMP `PodMonitoring` on GKE managed
 * collection, or a prometheus-operator `ServiceMonitor`. Under basic-auth, GMP reads the password Secret from
 * this namespace, which needs a Role granting its collector `get` on exactly that Secret.
 * @see https://cloud.google.com/stackdriver/docs/managed-prometheus/setup-managed
 */
export class Metrics extends Construct {
  /** Namespace the collector scrapes from (admitted by the NetworkPolicy). */
  public readonly collectorNamespace: string;
  /** The user the collector logs in as and its Secret (the migration creates the user); undefined without basic-auth. */
  public readonly scrapeUser?: ScrapeCredentials;

  constructor(scope: Construct, id: string, props: MetricsProps) {
    super(scope, id);
    const user = props.user;
    const creds = user
      ? {
          username: user.credentials.username,
          secret: SecretManagerStore.of(this, { projectId: user.secretProject, serviceAccount: user.serviceAccount }).userSecret(
            this,
            'Credentials',
            'mlflow-metrics-auth',
            user.credentials,
          ),
        }
      : undefined;
    this.scrapeUser = creds;
    if (props.mode === 'gmp') {
      this.collectorNamespace = GMP_NAMESPACES[props.clusterKind ?? DEFAULT_GKE_CLUSTER_KIND];
      new PodMonitoring(this, 'PodMonitoring', {
        metadata: { name: 'mlflow' },
        spec: {
          selector: { matchLabels: props.selectorLabels },
          endpoints: [
            {
              port: PodMonitoringSpecEndpointsPort.fromString(props.portName),
              path: '/metrics',
              interval: INTERVAL,
              ...(creds ? { basicAuth: { username: creds.username, password: { secret: { name: creds.secret.name, key: 'password' } } } } : {}),
            },
          ],
        },
      });
      if (creds) {
        const role = new kplus.Role(this, 'SecretReader', { metadata: { name: 'gmp-collector-read-mlflow-metrics-auth' } });
        role.allow(['get'], creds.secret);
        const binding = new kplus.RoleBinding(this, 'SecretReaderBinding', { metadata: { name: 'gmp-collector-read-mlflow-metrics-auth' }, role });
        binding.addSubjects(kplus.ServiceAccount.fromServiceAccountName(this, 'Collector', 'collector', { namespaceName: this.collectorNamespace }));
        // cdk8s-plus writes the core group as `apiGroup: ""`, which the API server drops (empty is the core
        // group): omit it, so the desired object equals the live one (Argo CD has shown such empty fields as a
        // diff, argoproj/argo-cd#620).
        ApiObject.of(binding).addJsonPatch(JsonPatch.remove('/subjects/0/apiGroup'));
      }
    } else {
      this.collectorNamespace = PROMETHEUS_NAMESPACE;
      new ServiceMonitor(this, 'ServiceMonitor', {
        metadata: { name: 'mlflow' },
        spec: {
          selector: { matchLabels: props.selectorLabels },
          endpoints: [
            {
              port: props.portName,
              path: '/metrics',
              interval: INTERVAL,
              ...(creds
                ? {
                    basicAuth: {
                      username: { name: creds.secret.name, key: 'username' },
                      password: { name: creds.secret.name, key: 'password' },
                    },
                  }
                : {}),
            },
          ],
        },
      });
    }
    props.network?.admitToServer(namespacePeer(this.collectorNamespace));
  }
}
