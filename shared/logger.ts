import type { Logger } from '@aws-lambda-powertools/logger';
import { DEFAULT_SERVICE_NAME, ENV } from './env.ts';

type Level = 'info' | 'warn' | 'error';

let loaded: Promise<Logger> | undefined;

/** Powertools' logger, loaded and built with the first line logged. */
function load(): Promise<Logger> {
  return (loaded ??= import('@aws-lambda-powertools/logger').then(({ Logger }) => new Logger({ serviceName: process.env[ENV.serviceName] || DEFAULT_SERVICE_NAME })));
}

function at(level: Level) {
  return (message: string, extra?: Record<string, unknown>): void => {
    load().then(
      (l) => (extra ? l[level](message, extra) : l[level](message)),
      (err: unknown) => console.error(message, extra, err),
    );
  };
}

/**
 * The functions' logger, named after the deployment's service (set by the stack on every
 * function). Most invocations log nothing, so Powertools is loaded and built with the first line
 * rather than with the function. Lines keep their order; in a bundle the import settles within
 * microtasks, so a line is written before the handler's answer leaves the process.
 */
export const logger: Record<Level, (message: string, extra?: Record<string, unknown>) => void> = { info: at('info'), warn: at('warn'), error: at('error') };
