/**
 * Reads what `npm run synth` generated in `argocd/<env>/` — the same files the kubectl path applies — so the
 * bootstrap writes nothing twice: the AppProjects and root Application are applied as they are, and the
 * Application health check (the `argocd-cm` key) goes into the Argo CD chart's values instead of a patch.
 * Pure file reading; no Pulumi here.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';

/** The `argocd-cm` key of the `argoproj.io/Application` health check (Lua). */
export const HEALTH_KEY = 'resource.customizations.health.argoproj.io_Application';

/** The repository's generated bootstrap folders: `<repo>/argocd/`. */
export const ARGOCD_DIR = path.resolve(__dirname, '..', '..', 'argocd');

/** A Kubernetes object as generated (only what the bootstrap reads is typed). */
export interface GeneratedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string } & Record<string, unknown>;
  readonly [field: string]: unknown;
}

export interface Generated {
  /** The folder read, for messages. */
  readonly dir: string;
  /** The namespace Argo CD runs in: that of every generated object. */
  readonly namespace: string;
  /** The Lua of {@link HEALTH_KEY}, exactly as generated. */
  readonly applicationHealthLua: string;
  /** The environment's AppProject, and its clients' when it has clients, in file order. */
  readonly projects: readonly GeneratedObject[];
  /** The root Application(s), in file order. */
  readonly applications: readonly GeneratedObject[];
}

const ARGO_GROUP = 'argoproj.io/';

/**
 * The generated objects of one environment. Throws, naming the file, on anything it does not know how to apply:
 * a new kind in `argocd/<env>/` must be handled here deliberately, not skipped.
 * @param argocdDir default {@link ARGOCD_DIR}
 */
/** The environments synth generated: the directories of `argocd/` (synth's own marker file there is not one). */
export function generatedEnvironments(argocdDir: string = ARGOCD_DIR): string[] {
  if (!fs.existsSync(argocdDir)) return [];
  return fs
    .readdirSync(argocdDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export function readGenerated(environment: string, argocdDir: string = ARGOCD_DIR): Generated {
  const dir = path.join(argocdDir, environment);
  // As the user would type it: relative to the working directory when inside it.
  const rel = path.relative(process.cwd(), dir);
  const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
  if (!generatedEnvironments(argocdDir).includes(environment)) {
    const known = generatedEnvironments(argocdDir).join(', ') || 'none';
    throw new Error(`${shown} does not exist: run \`npm run synth\` in the repository first (environments generated: ${known})`);
  }
  const lua: string[] = [];
  const projects: GeneratedObject[] = [];
  const applications: GeneratedObject[] = [];
  const files = fs.readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  for (const file of files) {
    for (const doc of yaml.loadAll(fs.readFileSync(path.join(dir, file), 'utf8')) as Array<Record<string, any> | null>) {
      if (doc === null || doc === undefined) continue;
      const where = `${path.join(shown, file)}: ${doc.kind ?? '(no kind)'} ${doc.metadata?.name ?? '(no name)'}`;
      if (doc.kind === 'Kustomization') continue; // the kubectl path's entry point
      if (typeof doc.data?.[HEALTH_KEY] === 'string') {
        lua.push(doc.data[HEALTH_KEY]);
        const others = Object.keys(doc.data).filter((k) => k !== HEALTH_KEY);
        if (others.length > 0) throw new Error(`${where}: carries argocd-cm keys besides the health check (${others.join(', ')}); set them in the chart values`);
        continue;
      }
      if (typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith(ARGO_GROUP) && doc.kind === 'AppProject') projects.push(doc as GeneratedObject);
      else if (typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith(ARGO_GROUP) && doc.kind === 'Application') applications.push(doc as GeneratedObject);
      else throw new Error(`${where}: not handled by the bootstrap, which applies the AppProject and Application objects and puts the argocd-cm health check into the chart values`);
    }
  }
  if (lua.length !== 1) throw new Error(`${shown}: expected the argocd-cm health check (${HEALTH_KEY}) once, found it ${lua.length} times`);
  if (projects.length === 0) throw new Error(`${shown}: expected the environment's AppProject, found none`);
  if (applications.length === 0) throw new Error(`${shown}: expected the root Application, found none`);
  const namespaces = [...new Set([...projects, ...applications].map((o) => o.metadata.namespace))];
  if (namespaces.length !== 1 || namespaces[0] === undefined) {
    throw new Error(`${shown}: the AppProject and Applications must all be in Argo CD's namespace, found ${namespaces.map(String).join(', ')}`);
  }
  return { dir: shown, namespace: namespaces[0], applicationHealthLua: lua[0], projects, applications };
}
