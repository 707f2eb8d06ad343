/** DataVolume in a test chart: the single-writer claim for SQLite and volume artifacts. */
import { Size } from 'cdk8s';
import { DataVolume } from '../../lib/mlflow/data-volume';
import { find, objectsOf, testChart } from '../support/constructs';

describe('DataVolume', () => {
  test('a ReadWriteOnce claim of the given size and class', () => {
    const chart = testChart();
    new DataVolume(chart, 'Data', { size: Size.gibibytes(20), storageClassName: 'premium-rwo' });
    expect(find(objectsOf(chart), 'PersistentVolumeClaim', 'mlflow-data').spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '20Gi' } },
      storageClassName: 'premium-rwo',
      volumeMode: 'Filesystem',
    });
  });

  test('without a class: the cluster default (no storageClassName)', () => {
    const chart = testChart();
    new DataVolume(chart, 'Data', { size: Size.gibibytes(1) });
    expect(find(objectsOf(chart), 'PersistentVolumeClaim', 'mlflow-data').spec.storageClassName).toBeUndefined();
  });
});
