// /v1/items: the item catalog (api/items.ts). Item admins post drafts, publish and retire versions;
// every staff role reads. The role gate runs before the body is looked at, so a clerk's POST is a
// 403 whatever it carries. A posted definition is validated by the domain schema inside the use
// case, not by the route, so every problem comes back at once as a 422 (the route's schema only
// asks for a JSON object).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ITEM_SOURCES, ITEM_VERSION_STATUSES } from '../../db/items.js';
import { itemDefinitionSchema } from '../../domain/items.js';
import { allowedItemRoles } from '../../domain/policy.js';
import { staffOf } from '../auth.js';
import { createDraft, diffVersions, getItem, getVersion, getVersions, listItems, publishVersion, retireVersion } from '../items.js';
import { problems } from '../problem.js';
import { itemCodeParams, staffCommandSchema } from '../schemas.js';
import { secured } from './common.js';

const timestamp = z.string().meta({ format: 'date-time' });

/** A stored definition as it was validated when written (the schema's fields, without re-running its cross-field rules on the way out). */
const storedDefinitionSchema = z.object(itemDefinitionSchema.shape);

const versionSummaryFields = {
  code: z.string(),
  version: z.number().int(),
  status: z.enum(ITEM_VERSION_STATUSES).meta({ description: 'draft → published → superseded (a newer version was published); published or superseded → retired' }),
  source: z.enum(ITEM_SOURCES).meta({ description: 'file: published at start from items/; api: posted with POST /v1/items' }),
  sha256: z.string().meta({ description: 'SHA-256 of the definition’s canonical JSON' }),
  createdAt: timestamp,
  createdBy: z.string(),
  publishedAt: timestamp.nullable(),
  publishedBy: z.string().nullable(),
  retiredAt: timestamp.nullable(),
  retiredBy: z.string().nullable(),
  retireReason: z.string().nullable(),
};
const versionSummarySchema = z.object(versionSummaryFields).meta({ id: 'ItemVersionSummary' });
const versionSchema = z.object({ ...versionSummaryFields, definition: storedDefinitionSchema }).meta({ id: 'ItemVersion' });

const catalogSchema = z
  .object({
    items: z.array(
      z.object({
        code: z.string(),
        name: z.string(),
        type: z.string(),
        handlingType: z.string(),
        publishedVersion: z.number().int().nullable().meta({ description: 'The version new cases are accepted under; null when none is published' }),
        latestVersion: z.number().int(),
        statuses: z.object({ draft: z.number().int(), published: z.number().int(), superseded: z.number().int(), retired: z.number().int() }).meta({ description: 'How many versions are in each status' }),
      }),
    ),
  })
  .meta({ id: 'ItemCatalog' });

const itemSchema = z
  .object({
    ...itemDefinitionSchema.shape,
    status: z.enum(ITEM_VERSION_STATUSES).meta({ description: 'Status of the version shown: the published one, else the latest draft, else the latest' }),
    publishedAt: timestamp.nullable(),
    versions: z.array(versionSummarySchema),
  })
  .meta({ id: 'Item' });

const versionParams = itemCodeParams.extend({ version: z.coerce.number().int().min(1).max(1_000_000) });
const diffQuery = z.strictObject({
  from: z.coerce.number().int().min(1).max(1_000_000).meta({ description: 'A version of the item' }),
  to: z.coerce.number().int().min(1).max(1_000_000).meta({ description: 'Another version of the item' }),
});
const diffSchema = z
  .object({
    code: z.string(),
    from: z.number().int(),
    to: z.number().int(),
    changes: z.array(
      z.object({
        path: z.string().meta({ description: 'e.g. promisedDays, review.supplementDays, materials[resident-id-card].required; list elements are matched by their code or key' }),
        kind: z.enum(['added', 'removed', 'changed']),
        from: z.unknown().optional(),
        to: z.unknown().optional(),
      }),
    ),
  })
  .meta({ id: 'ItemDiff' });

export const itemRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/items',
    {
      config: { roles: allowedItemRoles('item.create') },
      schema: {
        ...secured,
        tags: ['items'],
        summary: 'Create a draft version of a service item (item admins)',
        description:
          'The body is one item definition (docs/items.md). Every problem comes back at once as 422 with its path. 409 when that version exists or is not above every version of the code. The draft takes no cases until it is published.',
        body: z.looseObject({}).meta({ description: 'One item definition with the national standard elements (domain/items.ts)' }),
        response: { 201: versionSchema, ...problems(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const created = await createDraft(app.pool, staffOf(request), request.body);
      return reply.code(201).header('location', `/v1/items/${created.code}/versions/${created.version}`).send(created);
    },
  );

  app.get(
    '/items',
    { schema: { ...secured, tags: ['items'], summary: 'The item catalog: every code with its published and latest version', response: { 200: catalogSchema, ...problems(401) } } },
    async () => listItems(app.pool),
  );

  app.get(
    '/items/:code',
    {
      schema: {
        ...secured,
        tags: ['items'],
        summary: 'One item: its published definition (else the latest draft) and a summary of every version',
        params: itemCodeParams,
        response: { 200: itemSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => getItem(app.pool, request.params.code),
  );

  app.get(
    '/items/:code/versions',
    { schema: { ...secured, tags: ['items'], summary: 'Every version of an item, oldest first', params: itemCodeParams, response: { 200: z.object({ code: z.string(), versions: z.array(versionSummarySchema) }), ...problems(400, 401, 404) } } },
    async (request) => getVersions(app.pool, request.params.code),
  );

  app.get(
    '/items/:code/versions/:version',
    { schema: { ...secured, tags: ['items'], summary: 'One version of an item with its definition', params: versionParams, response: { 200: versionSchema, ...problems(400, 401, 404) } } },
    async (request) => getVersion(app.pool, request.params.code, request.params.version),
  );

  app.post(
    '/items/:code/versions/:version/publish',
    {
      config: { roles: allowedItemRoles('item.publish') },
      schema: {
        ...secured,
        tags: ['items'],
        summary: 'Publish a draft (item admins): new cases are accepted under it, the version published before is superseded',
        description: 'Cases already running keep the version they were accepted under. 409 for a version that is not a draft, or older than a version already published.',
        params: versionParams,
        body: staffCommandSchema,
        response: { 200: versionSchema, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => publishVersion(app.pool, staffOf(request), request.params.code, request.params.version, request.body.reason),
  );

  app.post(
    '/items/:code/versions/:version/retire',
    {
      config: { roles: allowedItemRoles('item.retire') },
      schema: {
        ...secured,
        tags: ['items'],
        summary: 'Retire a published or superseded version (item admins)',
        description: 'Retiring the published version leaves the item with none: new cases are refused with 422 naming itemCode; running cases finish on their version. 409 for a draft or a version already retired.',
        params: versionParams,
        body: staffCommandSchema,
        response: { 200: versionSchema, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => retireVersion(app.pool, staffOf(request), request.params.code, request.params.version, request.body.reason),
  );

  app.get(
    '/items/:code/diff',
    {
      schema: {
        ...secured,
        tags: ['items'],
        summary: 'What changes from one version of an item to another',
        params: itemCodeParams,
        querystring: diffQuery,
        response: { 200: diffSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => diffVersions(app.pool, request.params.code, request.query.from, request.query.to),
  );
};
