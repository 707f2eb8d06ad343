/**
 * `pulumi up --stack <env>`: installs Argo CD on the cluster and applies the generated `argocd/<env>/`
 * AppProject and root Application (src/bootstrap.ts). The stack's `environment` config names the environment.
 */
import * as pulumi from '@pulumi/pulumi';
import { ARGO_CD_CHART, bootstrapArgoCd } from './src/bootstrap';

const config = new pulumi.Config();
const result = bootstrapArgoCd({ environment: config.require('environment') });

export const argoCdChart = `${ARGO_CD_CHART.chart} ${ARGO_CD_CHART.version} (Argo CD ${ARGO_CD_CHART.appVersion})`;
export const argoCdNamespace = result.release.namespace;
export const rootApplications = pulumi.all(result.applications.map((a) => a.metadata.name));
