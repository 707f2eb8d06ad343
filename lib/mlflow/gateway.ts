import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Certificate } from '../../imports/certificate-cert-manager.io';
import { Gateway, GatewaySpecListenersAllowedRoutesNamespacesFrom, GatewaySpecListenersTlsMode } from '../../imports/gateway-gateway.networking.k8s.io';
import { GcpBackendPolicy } from '../../imports/gcpbackendpolicy-networking.gke.io';
import {
  HealthCheckPolicy,
  HealthCheckPolicySpecDefaultConfigHttpHealthCheckPortSpecification,
  HealthCheckPolicySpecDefaultConfigType,
} from '../../imports/healthcheckpolicy-networking.gke.io';
import {
  HttpRoute,
  HttpRouteSpecRulesFiltersRequestRedirectScheme,
  HttpRouteSpecRulesFiltersRequestRedirectStatusCode,
  HttpRouteSpecRulesFiltersType,
  HttpRouteSpecRulesMatchesPathType,
} from '../../imports/httproute-gateway.networking.k8s.io';
import type { GkeGatewayClass } from '../config/schema';
import { TLS_SECRET_NAME } from './exposure';
import { loadBalancerPeers, type NetworkPolicies } from './network-policies';

/** Where the HTTPS listener's certificate comes from. */
export type GatewayCertificate =
  /** A cert-manager Certificate for every host, written to the Secret the listener references. */
  | { readonly source: 'cert-manager'; readonly clusterIssuer: string }
  /** A Google Certificate Manager map, referenced by the Gateway's `networking.gke.io/certmap` annotation. */
  | { readonly source: 'certificate-manager'; readonly mapName: string };

/** Props of {@link GkeGateway}. */
export interface GkeGatewayProps {
  /** The MLflow Service (the HTTPRoute's backend and the policies' target). */
  readonly service: kplus.Service;
  /** Its serving port. */
  readonly port: number;
  /** Public host names. */
  readonly hosts: readonly string[];
  /** GKE Gateway class. */
  readonly className: GkeGatewayClass;
  readonly certificate: GatewayCertificate;
  /** Load balancer backend timeout: the longest request (an artifact upload) it lets through. */
  readonly backendTimeout: Duration;
  /** How long the load balancer lets a leaving pod finish its open requests. */
  readonly drainingTimeout: Duration;
  /**
   * The VPC's proxy-only subnet: the regional and internal classes' Envoy proxies connect from it.
   * @default - none (a global class: Google's Front End ranges only)
   */
  readonly proxyOnlySubnetCidr?: string;
  /**
   * The namespace's network policies: this feature adds the rules it needs to them.
   * @default - no NetworkPolicy rules
   */
  readonly network?: NetworkPolicies;
}

/** Name of the Gateway, both HTTPRoutes' parent. */
export const GATEWAY_NAME = 'mlflow';
/** Listener names: the HTTPRoutes attach to one each (`sectionName`); cert-manager's HTTP-01 solver to `http`. */
export const LISTENERS = { https: 'https', http: 'http' } as const;

/**
 * Public HTTPS for MLflow through GKE's Gateway controller, the Gateway API counterpart of {@link Exposure}: a
 * Gateway with an HTTPS listener (certificate from cert-manager or a Certificate Manager map) and an HTTP listener
 * whose only route redirects to HTTPS; an HTTPRoute of every host to the Service; a HealthCheckPolicy on `/health`
 * (the default `/` needs auth and the Host allow-list) and a GCPBackendPolicy with the backend timeout and
 * connection draining, both attached to the Service. The Gateway controller puts the pods behind NEGs itself: the
 * Service needs no `cloud.google.com/neg` annotation.
 * Why: docs/design.md#exposure.
 * @see https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways
 * @see https://cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources
 */
export class GkeGateway extends Construct {
  public readonly gateway: Gateway;

  constructor(scope: Construct, id: string, props: GkeGatewayProps) {
    super(scope, id);
    const hosts = [...props.hosts];
    const cert = props.certificate;
    const serviceRef = { group: '', kind: 'Service', name: props.service.name };
    // Google's Front End ranges, and for the regional and internal classes the proxy-only subnet their proxies use.
    const loadBalancers = loadBalancerPeers(props.proxyOnlySubnetCidr);
    props.network?.admitToServer(...loadBalancers);
    if (cert.source === 'cert-manager') props.network?.admitHttp01Solver(loadBalancers);

    if (cert.source === 'cert-manager') {
      // An explicit Certificate rather than the Gateway annotation: it needs no cert-manager gateway-shim, and it
      // names its hosts. GKE programs the HTTPS listener only once the Secret exists: start with a temporary one.
      new Certificate(this, 'Certificate', {
        metadata: { name: 'mlflow', annotations: { 'cert-manager.io/issue-temporary-certificate': 'true' } },
        spec: {
          secretName: TLS_SECRET_NAME,
          dnsNames: hosts,
          issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: cert.clusterIssuer },
        },
      });
    }

    this.gateway = new Gateway(this, 'Gateway', {
      metadata: {
        name: GATEWAY_NAME,
        // GKE reads the map from this annotation; it refuses a Gateway that also lists tls.certificateRefs.
        annotations: cert.source === 'certificate-manager' ? { 'networking.gke.io/certmap': cert.mapName } : undefined,
      },
      spec: {
        gatewayClassName: props.className,
        listeners: [
          {
            name: LISTENERS.https,
            protocol: 'HTTPS',
            port: 443,
            tls:
              cert.source === 'cert-manager'
                ? { mode: GatewaySpecListenersTlsMode.TERMINATE, certificateRefs: [{ group: '', kind: 'Secret', name: TLS_SECRET_NAME }] }
                : undefined,
            allowedRoutes: { namespaces: { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME } },
          },
          { name: LISTENERS.http, protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME } } },
        ],
      },
    });
    const parent = (sectionName: string) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: GATEWAY_NAME, sectionName });
    const everyPath = [{ path: { type: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value: '/' } }];

    new HttpRoute(this, 'Route', {
      metadata: { name: 'mlflow' },
      spec: {
        parentRefs: [parent(LISTENERS.https)],
        hostnames: hosts,
        rules: [{ matches: everyPath, backendRefs: [{ group: '', kind: 'Service', name: props.service.name, port: props.port }] }],
      },
    });
    new HttpRoute(this, 'Redirect', {
      metadata: { name: 'mlflow-https-redirect' },
      spec: {
        parentRefs: [parent(LISTENERS.http)],
        hostnames: hosts,
        rules: [
          {
            matches: everyPath,
            filters: [
              {
                type: HttpRouteSpecRulesFiltersType.REQUEST_REDIRECT,
                requestRedirect: {
                  scheme: HttpRouteSpecRulesFiltersRequestRedirectScheme.HTTPS,
                  statusCode: HttpRouteSpecRulesFiltersRequestRedirectStatusCode.VALUE_301,
                },
              },
            ],
          },
        ],
      },
    });

    new HealthCheckPolicy(this, 'HealthCheck', {
      metadata: { name: 'mlflow' },
      spec: {
        default: {
          checkIntervalSec: 10,
          timeoutSec: 5,
          config: {
            type: HealthCheckPolicySpecDefaultConfigType.HTTP,
            httpHealthCheck: {
              portSpecification: HealthCheckPolicySpecDefaultConfigHttpHealthCheckPortSpecification.USE_UNDERSCORE_FIXED_UNDERSCORE_PORT,
              port: props.port,
              requestPath: '/health',
            },
          },
        },
        targetRef: serviceRef,
      },
    });
    new GcpBackendPolicy(this, 'Backend', {
      metadata: { name: 'mlflow' },
      spec: {
        default: {
          timeoutSec: props.backendTimeout.toSeconds(),
          connectionDraining: { drainingTimeoutSec: props.drainingTimeout.toSeconds() },
        },
        targetRef: serviceRef,
      },
    });
  }
}
