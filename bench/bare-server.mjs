// Baseline for bench/submit: a bare Fastify JSON route doing nothing but parse and answer.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/api/v1/generate/replace-section', async (request) => ({ code: 200, msg: 'success', data: { taskId: String(request.body?.title ?? '') } }));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`LISTENING ${app.server.address().port}\n`);
