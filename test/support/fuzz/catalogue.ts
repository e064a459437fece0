import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as z from 'zod/mini';
import { httpRoutes, wsRoutes, type HttpRoute } from '#infra/routes.ts';
import { userIdSchema } from '#shared/schemas/common.ts';

/**
 * What the fuzzer knows of every route and frame type, read from the code itself: the route table,
 * the zod schema each handler parses its path, query and body with, and the frame schemas. A route
 * or frame the fuzzer cannot describe is listed by `gaps()`, and a test fails on it.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type JsonSchema = Record<string, any>;

export interface HttpTarget {
  kind: 'http';
  /** `METHOD /path/{param}` as in the route table. */
  key: string;
  method: string;
  path: string;
  auth: HttpRoute['auth'] | 'dev';
  /** One JSON schema per path parameter. */
  params: Record<string, JsonSchema>;
  query?: JsonSchema;
  body?: JsonSchema;
}

export interface FrameTarget {
  kind: 'frame';
  type: string;
  schema: JsonSchema;
}

export interface Catalogue {
  http: HttpTarget[];
  frames: FrameTarget[];
  /** Routes and frame types the fuzzer has no generator for. */
  gaps: string[];
}

const toJson = (schema: z.ZodMiniType): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

async function loadSchemas(): Promise<Map<string, z.ZodMiniType>> {
  const dir = path.join(root, 'shared/schemas');
  const found = new Map<string, z.ZodMiniType>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) if (value instanceof z.ZodMiniType) found.set(name, value);
  }
  return found;
}

/**
 * `POST /dev/token` is the local runtime's own route (infra/local/dev-routes.ts), outside the route
 * table; its body is `{userId, displayName?}`.
 */
const DEV_TOKEN_BODY = z.strictObject({ userId: userIdSchema, displayName: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))) });

function describeHttp(route: HttpRoute, schemas: Map<string, z.ZodMiniType>, gaps: string[]): HttpTarget {
  const key = `${route.method} ${route.path}`;
  const source = readFileSync(path.join(root, 'functions', `${route.fn}.ts`), 'utf8');
  const named = (name: string | undefined, where: string) => {
    if (!name) return undefined;
    const schema = schemas.get(name);
    if (!schema) gaps.push(`${key}: ${where} schema ${name} is not exported by shared/schemas`);
    return schema && toJson(schema);
  };
  const params: Record<string, JsonSchema> = {};
  // Either one object schema for every parameter, or one schema per parameter.
  const whole = named(/parseOrThrow\((\w+),\s*req\.params\s*[,)]/.exec(source)?.[1], 'path');
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    const one = named(new RegExp(`parseOrThrow\\((\\w+),\\s*req\\.params\\.${name}\\b`).exec(source)?.[1], `path ${name}`);
    const schema = one ?? (whole?.properties as Record<string, JsonSchema> | undefined)?.[name!];
    if (schema) params[name!] = schema;
    else gaps.push(`${key}: no schema for path parameter ${name}`);
  }
  const query = named(/parseOrThrow\((\w+),\s*req\.query\b/.exec(source)?.[1], 'query');
  const body = named(/parseOrThrow\((\w+),\s*req\.body\(\)/.exec(source)?.[1], 'body');
  if (!query && /req\.query\b/.test(source)) gaps.push(`${key}: reads its query without a schema the fuzzer can find`);
  if (!body && /req\.body\(/.test(source)) gaps.push(`${key}: reads its body without a schema the fuzzer can find`);
  return { kind: 'http', key, method: route.method, path: route.path, auth: route.auth, params, ...(query && { query }), ...(body && { body }) };
}

/** The frame schema of a route key: `message_send` → `messageSendFrame`. */
const frameSchemaName = (type: string) => `${type.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())}Frame`;

export async function loadCatalogue(): Promise<Catalogue> {
  const schemas = await loadSchemas();
  const gaps: string[] = [];
  const http = httpRoutes.map((r) => describeHttp(r, schemas, gaps));
  http.push({ kind: 'http', key: 'POST /dev/token', method: 'POST', path: '/dev/token', auth: 'dev', params: {}, body: toJson(DEV_TOKEN_BODY) });
  const frames: FrameTarget[] = [];
  for (const { routeKey } of wsRoutes) {
    if (routeKey.startsWith('$')) continue;
    const schema = schemas.get(frameSchemaName(routeKey));
    if (schema) frames.push({ kind: 'frame', type: routeKey, schema: toJson(schema) });
    else gaps.push(`frame ${routeKey}: no ${frameSchemaName(routeKey)} in shared/schemas`);
  }
  return { http, frames, gaps };
}
