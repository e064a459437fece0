import { createJwtVerifier, type ClaimsVerifier } from '#shared/adapters/jwt.ts';
import { ENV, requireEnv } from '#shared/env.ts';

/**
 * The JWT verifier, built on first use. A module of its own, apart from the composition root
 * (deps.ts), so that the `$connect` authorizer bundles no AWS SDK client and starts cold fast.
 */
let verifier: ClaimsVerifier | undefined;
export function getVerifier(): ClaimsVerifier {
  if (!verifier) {
    const devJwks = process.env[ENV.devJwks];
    verifier = createJwtVerifier({
      issuer: requireEnv(ENV.jwtIssuer),
      audience: requireEnv(ENV.jwtAudience),
      ...(devJwks && { jwks: JSON.parse(devJwks) }),
    });
  }
  return verifier;
}
