/**
 * A text picture of an environment's sync order, generated from the rendered objects (docs/deploying.md embeds it
 * and a test keeps the two equal).
 */
import { APP_PATHS, HOOK_ANNOTATION, projectName, ROOT_APP, servingAppName, servingPath, SYNC_WAVE_ANNOTATION } from '../lib/names';

/** What the picture reads of a rendered object. */
interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly annotations?: unknown };
}

const waveOf = (m: Manifest): number => Number((m.metadata.annotations as Record<string, string> | undefined)?.[SYNC_WAVE_ANNOTATION] ?? 0);

function groupByWave(manifests: readonly Manifest[], label: (m: Manifest) => string): string[] {
  const waves = [...new Set(manifests.map(waveOf))].sort((a, b) => a - b);
  return waves.map((w) => {
    const names = manifests.filter((m) => waveOf(m) === w).map(label);
    return `wave ${String(w).padStart(3)}  ${names.join(', ')}`;
  });
}

/**
 * Root app → child Applications by wave → inside the MLflow app, objects by wave → inside the served models' app (when
 * `serving` has objects), objects by wave.
 */
export function waveDiagram(environment: string, applications: readonly Manifest[], mlflow: readonly Manifest[], serving: readonly Manifest[] = []): string {
  const phaseOf = (m: Manifest) => (m.metadata.annotations as Record<string, string> | undefined)?.[HOOK_ANNOTATION];
  const hook = (m: Manifest) => (phaseOf(m) ? ` (${phaseOf(m)} hook)` : '');
  // A PostSync hook runs after every wave of the sync is healthy, whatever its own wave.
  const postSync = mlflow.filter((m) => phaseOf(m) === 'PostSync');
  const lines = [
    `argocd/${environment} (kubectl apply --server-side -k)  →  Application ${projectName(environment)}-${ROOT_APP}`,
    ...groupByWave(applications, (m) => `Application ${m.metadata.name}`).map((l) => `  ${l}`),
    `Application ${projectName(environment)} (dist/${environment}/${APP_PATHS.mlflow}):`,
    ...groupByWave(
      mlflow.filter((m) => phaseOf(m) !== 'PostSync'),
      (m) => `${m.kind}/${m.metadata.name}${hook(m)}`,
    ).map((l) => `  ${l}`),
    ...(postSync.length > 0 ? [`  then, all healthy:  ${postSync.map((m) => `${m.kind}/${m.metadata.name} (PostSync hook)`).join(', ')}`] : []),
    ...(serving.length > 0
      ? [
          `Application ${servingAppName(environment)} (dist/${environment}/${servingPath(APP_PATHS.mlflow)}):`,
          ...groupByWave(serving, (m) => `${m.kind}/${m.metadata.name}`).map((l) => `  ${l}`),
        ]
      : []),
  ];
  return lines.join('\n');
}
