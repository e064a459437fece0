import type { Node } from 'constructs';
import { ENV, TUNABLE_SETTINGS } from '#shared/env.ts';

/** Deployment knobs, read from CDK context (`cdk.json` or `cdk deploy -c parley:key=value`). */
export interface Settings {
  /** Browser origins allowed by the HTTP API's CORS preflight and the attachments bucket. */
  corsOrigins: string[];
  httpThrottle: { burstLimit: number; rateLimit: number };
  wsThrottle: { burstLimit: number; rateLimit: number };
  /** An existing OpenID Connect issuer; when absent the stack creates a Cognito user pool. */
  externalIssuer?: { issuer: string; audience: string };
  /** Whether anyone may create an account in the created user pool (`false`: admins invite). */
  selfSignUp: boolean;
  /** An existing EventBridge bus for outbound events (`parley:eventBusName`); the stack creates one otherwise. */
  eventBusName?: string | undefined;
  /** The VAPID contact push services see (`parley:vapidSubject`, a mailto: or https: URL). */
  vapidSubject?: string | undefined;
  /** Tuned limits (TUNABLE_SETTINGS), as environment variables for every function. */
  functionSettings: Record<string, string>;
}

export function readSettings(node: Node): Settings {
  // Values given with `-c` arrive as strings, values from cdk.json keep their JSON type.
  const raw = (key: string): unknown => node.tryGetContext(`parley:${key}`);
  const text = (key: string): string | undefined => {
    const value = raw(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const number = (key: string, fallback: number): number => {
    const value = text(key);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`Context parley:${key} must be a non-negative number, got ${value}`);
    return parsed;
  };

  const issuer = text('jwtIssuer');
  const audience = text('jwtAudience');
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new Error('Context parley:jwtIssuer and parley:jwtAudience must be given together');
  }

  return {
    corsOrigins: (text('corsOrigins') ?? '*').split(',').map((o) => o.trim()).filter(Boolean),
    httpThrottle: { burstLimit: number('httpThrottleBurst', 200), rateLimit: number('httpThrottleRate', 100) },
    wsThrottle: { burstLimit: number('wsThrottleBurst', 500), rateLimit: number('wsThrottleRate', 250) },
    externalIssuer: issuer !== undefined && audience !== undefined ? { issuer, audience } : undefined,
    selfSignUp: text('selfSignUp') !== 'false',
    eventBusName: text('eventBusName'),
    vapidSubject: text('vapidSubject'),
    functionSettings: Object.fromEntries(
      TUNABLE_SETTINGS.flatMap((key) => {
        const value = text(key);
        return value === undefined ? [] : [[ENV[key], key === 'attachmentTypes' ? value : String(number(key, 0))]];
      }),
    ),
  };
}
