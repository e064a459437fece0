import { Logger } from '@aws-lambda-powertools/logger';
import { DEFAULT_SERVICE_NAME, ENV } from './env.ts';

/** The functions' logger, named after the deployment's service (set by the stack on every function). */
export const logger = new Logger({ serviceName: process.env[ENV.serviceName] || DEFAULT_SERVICE_NAME });
