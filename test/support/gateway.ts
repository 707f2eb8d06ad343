/** A gateway-mode variant of the shipped prod config (no shipped environment uses `exposure.mode: gateway`). */
import type { Server } from '../../lib/config/model';
import { configFrom, rawConfig } from '../../tools/environments';

/** Hosts of the variant: several, so that every list that follows the hosts shows each one. */
export const GATEWAY_HOSTS = ['mlflow.example.com', 'tracking.example.org', 'ml.example.net'];

/** prod's raw document with a gateway exposure (cert-manager certificate, default class), then `mutate`. */
export function gatewayDoc(mutate: (doc: any) => void = () => undefined): Record<string, any> {
  const doc = rawConfig('prod');
  doc.exposure = {
    mode: 'gateway',
    hosts: [...GATEWAY_HOSTS],
    certificate: { source: 'cert-manager', clusterIssuer: 'letsencrypt-prod' },
    backendTimeoutSeconds: 900,
  };
  mutate(doc);
  return doc;
}

/** The validated variant, named `prod` (its file would be config/prod.yaml). */
export function gatewayConfig(mutate: (doc: any) => void = () => undefined): Server {
  return configFrom('prod', gatewayDoc(mutate));
}
