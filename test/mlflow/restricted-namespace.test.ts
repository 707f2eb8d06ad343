/** RestrictedNamespace in a test chart: Pod Security admission at restricted. */
import { Chart, Testing } from 'cdk8s';
import { RestrictedNamespace } from '../../lib/mlflow/restricted-namespace';
import { find, objectsOf } from '../support/constructs';

describe('RestrictedNamespace', () => {
  test('enforces, audits and warns at restricted, pinned to v1.28; cluster-scoped even in a namespaced chart', () => {
    const chart = new Chart(Testing.app(), 'namespaced', { namespace: 'apps' });
    new RestrictedNamespace(chart, 'Ns', { name: 'team-a' });
    const ns = find(objectsOf(chart), 'Namespace', 'team-a');
    expect(ns.metadata).toEqual({
      name: 'team-a',
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.28',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'v1.28',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'v1.28',
      },
    });
  });
});
