// The built-in service item definitions (事项), with their materials: what a clerk checks at intake.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BUILTIN_ITEMS, findBuiltinItem } from '../../domain/builtinItems.js';
import { itemDefinitionSchema } from '../../domain/items.js';
import { problem, problems } from '../problem.js';
import { itemCodeParams } from '../schemas.js';
import { secured } from './common.js';

export const itemRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/items',
    { schema: { ...secured, tags: ['items'], summary: 'Service item definitions', response: { 200: z.object({ items: z.array(itemDefinitionSchema) }), ...problems(401) } } },
    async () => ({ items: [...BUILTIN_ITEMS] }),
  );

  app.get(
    '/items/:code',
    { schema: { ...secured, tags: ['items'], summary: 'One service item definition', params: itemCodeParams, response: { 200: itemDefinitionSchema, ...problems(400, 401, 404) } } },
    async (request) => {
      const item = findBuiltinItem(request.params.code);
      if (!item) throw problem(404, `no service item ${request.params.code}`);
      return item;
    },
  );
};
