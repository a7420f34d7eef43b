// The baseline: a bare Fastify route answering the same JSON a send answers, nothing else.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
let n = 0;
app.post('/api/v1/send', async () => ({ success: true, messageId: `00000000-0000-0000-0000-${String(++n).padStart(12, '0')}`, status: 'pending' }));
const address = await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
console.log(`listening ${address}`);
