// Bits shared by the route modules.

/** OpenAPI: the route needs a bearer token. */
export const secured = { security: [{ bearerAuth: [] as string[] }] } as const;
