import type http from 'node:http';
import * as z from 'zod/mini';
import { userIdSchema } from '#shared/schemas/common.ts';
import type { DevIssuer } from './dev-issuer.ts';
import type { LocalRoute } from './http-gateway.ts';

const tokenBody = z.strictObject({ userId: userIdSchema, displayName: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))) });

/**
 * The dev issuer's routes under `/dev/`: `POST /dev/token`, its JWKS and discovery document.
 * Local only: the CDK stack never deploys them.
 */
export function devRoutes(issuer: DevIssuer): LocalRoute {
  return async (req: http.IncomingMessage, body: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://local').pathname;
    if (!pathname.startsWith('/dev/')) return undefined;
    if (req.method === 'POST' && pathname === '/dev/token') {
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return { status: 400, body: { error: { code: 'validation_failed', message: 'The body is not valid JSON' } } };
      }
      const parsed = tokenBody.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        return { status: 400, body: { error: { code: 'validation_failed', message: 'Give {userId, displayName?}', details: { issues } } } };
      }
      return { status: 200, body: await issuer.issue(parsed.data.userId, parsed.data.displayName) };
    }
    if (req.method === 'GET' && pathname === '/dev/.well-known/jwks.json') return { status: 200, body: issuer.jwks };
    if (req.method === 'GET' && pathname === '/dev/.well-known/openid-configuration') {
      return {
        status: 200,
        body: { issuer: issuer.issuer, jwks_uri: `${issuer.issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] },
      };
    }
    return { status: 404, body: { message: 'Not Found' } };
  };
}
