import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/** Props of {@link DataVolume}. */
export interface DataVolumeProps {
  /** Requested capacity. */
  readonly size: Size;
  /**
   * StorageClass.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
}

/**
 * A ReadWriteOnce volume for MLflow's data (a SQLite database and/or proxied artifacts), mounted at
 * {@link DataVolume.MOUNT_PATH}. One writer pod at a time: the server using it runs one replica with the
 * Recreate strategy.
 */
export class DataVolume extends Construct {
  /** Where the volume is mounted in the MLflow container. */
  public static readonly MOUNT_PATH = '/mlflow/data';

  public readonly volume: kplus.Volume;

  constructor(scope: Construct, id: string, props: DataVolumeProps) {
    super(scope, id);
    const claim = new kplus.PersistentVolumeClaim(this, 'Resource', {
      metadata: { name: 'mlflow-data' },
      accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
      storage: props.size,
      storageClassName: props.storageClassName,
      volumeMode: kplus.PersistentVolumeMode.FILE_SYSTEM,
    });
    this.volume = kplus.Volume.fromPersistentVolumeClaim(this, 'Volume', claim, { name: 'data' });
  }

  /** Mounts the volume into a container at {@link DataVolume.MOUNT_PATH} (once, however often it is asked). */
  public mountInto(container: kplus.Container): void {
    if (container.mounts.some((m) => m.path === DataVolume.MOUNT_PATH)) return;
    container.mount(DataVolume.MOUNT_PATH, this.volume);
  }
}
