/**
 * Jest setup of the unit suites (jest.config.js): compiled schema validators are cached as code under
 * node_modules/.cache/, so that each suite (a process of its own to jest) loads them instead of compiling them
 * again. Left out of the mutation run (jest.mutate.config.js): a mutant of schema-validation.ts must compile its
 * own validators, and must not leave them for the next.
 */
import * as path from 'path';
import { cacheValidatorsIn } from '../../tools/schema-validation';

cacheValidatorsIn(path.join(__dirname, '..', '..', 'node_modules', '.cache', 'mlflow-gitops', 'validators'));
