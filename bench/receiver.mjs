// A loopback callback receiver in its own process: answers 200 at once, records when each
// delivery arrived. GET /stats returns {count, arrivals: {taskId: ms}} and resets.
import http from 'node:http';

let count = 0;
let arrivals = {};
const server = http.createServer((request, response) => {
  if (request.method === 'GET') {
    response.end(JSON.stringify({ count, arrivals }));
    count = 0;
    arrivals = {};
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    count++;
    const at = Date.now();
    try {
      const taskId = JSON.parse(Buffer.concat(chunks).toString()).data?.task_id;
      if (taskId) arrivals[taskId] = at;
    } catch {}
    response.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`LISTENING ${server.address().port}\n`));
