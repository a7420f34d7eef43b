import type { FastifyRequest } from 'fastify';

export type Authenticate = (options: { allowQueryKey: boolean }) => (request: FastifyRequest) => Promise<void>;
