import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OUTPUTS, generateOpenApi, generateWebSocketReference } from '#docs/generate.ts';
import { httpRoutes, wsRoutes } from '#infra/routes.ts';

describe('the generated API references', () => {
  it('are up to date with the routes, handlers and schemas (run `npm run docs` after changing them)', async () => {
    expect(JSON.parse(readFileSync(OUTPUTS.openapi, 'utf8'))).toEqual(await generateOpenApi());
    expect(readFileSync(OUTPUTS.websocket, 'utf8')).toBe(await generateWebSocketReference());
  });

  it('describe every HTTP route, with the schema of each body it reads', async () => {
    const doc = (await generateOpenApi()) as { paths: Record<string, Record<string, { summary: string; requestBody?: unknown }>> };
    for (const route of httpRoutes) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op?.summary, `${route.method} ${route.path}`).toMatch(/\S/);
      if (['POST', 'PATCH'].includes(route.method) && !/\/join$/.test(route.path)) {
        expect(op?.requestBody, `${route.method} ${route.path} body schema`).toBeDefined();
      }
    }
  });

  it('give every WebSocket route its frame schema', async () => {
    const ref = await generateWebSocketReference();
    for (const route of wsRoutes.filter((r) => !r.routeKey.startsWith('$'))) {
      const section = ref.split(`## \`${route.routeKey}\``)[1]?.split('\n## ')[0] ?? '';
      expect(section, route.routeKey).toContain(`"const": "${route.routeKey}"`);
    }
  });
});
