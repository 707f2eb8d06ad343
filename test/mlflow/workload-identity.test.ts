/** WorkloadIdentity in a test chart: the pods' service account, with or without a Google service account. */
import { WorkloadIdentity } from '../../lib/mlflow/workload-identity';
import { find, objectsOf, testChart } from '../support/constructs';

describe('WorkloadIdentity', () => {
  test('with a Google service account: the GKE annotation, no token', () => {
    const chart = testChart();
    new WorkloadIdentity(chart, 'Id', { name: 'ksa', googleServiceAccountEmail: 'gsa@proj-123456.iam.gserviceaccount.com' });
    const sa = find(objectsOf(chart), 'ServiceAccount', 'ksa');
    expect(sa.metadata.annotations).toEqual({ 'iam.gke.io/gcp-service-account': 'gsa@proj-123456.iam.gserviceaccount.com' });
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  test('without: a plain service account, still no token', () => {
    const chart = testChart();
    new WorkloadIdentity(chart, 'Id', { name: 'ksa' });
    const sa = find(objectsOf(chart), 'ServiceAccount', 'ksa');
    expect(sa.metadata.annotations).toBeUndefined();
    expect(sa.automountServiceAccountToken).toBe(false);
  });
});
