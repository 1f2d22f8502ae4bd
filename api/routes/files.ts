// POST /v1/files: one material per multipart request.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { staffOf } from '../auth.js';
import { malformedMultipart, uploadFile } from '../files.js';
import { problem, problems } from '../problem.js';
import { fileSchema } from '../schemas.js';
import { secured } from './common.js';

export const fileRoutes: FastifyPluginAsyncZod = async (app) => {
  const maxBytes = app.config.UPLOAD_MAX_BYTES;
  // One byte over the limit reaches the store, which then refuses the file: a file of exactly
  // the limit is accepted, and nothing too large is ever kept.
  await app.register(multipart, { limits: { fileSize: maxBytes + 1, files: 1, fields: 10, parts: 11 } });

  app.post(
    '/files',
    {
      config: { roles: ['clerk', 'approver', 'supervisor'] },
      schema: {
        ...secured,
        tags: ['files'],
        summary: 'Upload one material (multipart/form-data, one file part)',
        description: `Accepted types: PDF, JPEG, PNG, OFD; the content must match the declared type. Limit: ${maxBytes} bytes.`,
        consumes: ['multipart/form-data'],
        response: { 201: fileSchema, ...problems(400, 401, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw problem(415, 'the request must be multipart/form-data with one file part');
      const part = await request.file().catch((e: unknown) => {
        throw malformedMultipart(e);
      });
      if (!part) throw problem(400, 'the request has no file part', { errors: [{ path: 'file', message: 'is required' }] });
      try {
        const uploaded = await uploadFile({ pool: app.pool, store: app.store, maxBytes }, part, staffOf(request));
        return reply.code(201).send(uploaded);
      } catch (e) {
        // The rest of a refused upload is never read: closing the connection stops the client
        // sending it and keeps a half-read request from holding the server open at shutdown.
        reply.header('connection', 'close');
        throw e;
      }
    },
  );
};
