import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { FlexInstance } from '../../dev/flex/flex-instance.js';
import { FrontDoor } from '../../dev/flex/front-door.js';

/**
 * An instance as small as a process can be: an HTTP server that says `host.started` as the local host does and
 * answers /ok (the request echoed), /die (exits before answering) and /cut (exits half-way through its body).
 */
const INSTANCE = `
const { createServer } = require('node:http');
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.url.startsWith('/die')) process.exit(1);
    if (req.url.startsWith('/cut')) {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('the first part');
      setTimeout(() => process.exit(1), 50);
      return;
    }
    res.writeHead(201, { 'x-echo': req.headers['x-test'] ?? '', 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, body, chunked: req.headers['transfer-encoding'] ?? null }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ event: 'host.started', url: 'http://127.0.0.1:' + server.address().port })));
`;

const started: FlexInstance[] = [];
const doors: FrontDoor[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((i) => i.kill()));
  await Promise.all(doors.splice(0).map((d) => d.close()));
});

function instance(script: string, startTimeoutMs?: number): FlexInstance {
  const i = new FlexInstance({
    group: 'http',
    id: `http#${started.length + 1}`,
    command: { args: ['-e', script], env: process.env, cwd: tmpdir() },
    onLine: () => undefined,
    onStderr: () => undefined,
    ...(startTimeoutMs !== undefined ? { startTimeoutMs } : {}),
  });
  started.push(i);
  return i;
}

async function frontDoorTo(target: FlexInstance): Promise<string> {
  const door = new FrontDoor({ host: '127.0.0.1', port: 0, log: () => undefined, instance: () => target.ready.then(() => target) });
  doors.push(door);
  return door.listen();
}

describe("the Flex topology's front door: requests to an HTTP instance, as Azure's front end passes them", () => {
  it('passes the request and the answer unchanged, a chunked body included', async () => {
    const url = await frontDoorTo(instance(INSTANCE));
    const res = await fetch(`${url}/ok?validationToken=abc`, { method: 'POST', headers: { 'x-test': 'kept' }, body: 'sized body' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo')).toBe('kept');
    expect(await res.json()).toEqual({ url: '/ok?validationToken=abc', body: 'sized body', chunked: null });
    // A request without Content-Length reaches the instance chunked, as sent: the host decides what to make of it.
    const chunked = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(`${url}/ok`, { method: 'POST' }, (answer) => {
        let text = '';
        answer.on('data', (d: Buffer) => (text += d.toString()));
        answer.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      });
      req.on('error', reject);
      req.write('part one, ');
      req.end('part two');
    });
    expect(chunked).toEqual({ url: '/ok', body: 'part one, part two', chunked: 'chunked' });
  });

  it('answers 502 when the instance dies before it answers, so that Graph retries', async () => {
    const url = await frontDoorTo(instance(INSTANCE));
    const res = await fetch(`${url}/die`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(502);
  });

  it('ends the response with an error, never a complete 2xx, when the instance dies half-way through its body', async () => {
    const url = await frontDoorTo(instance(INSTANCE));
    const res = await fetch(`${url}/cut`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('answers 503 with Retry-After when no instance could be started, and kills one that does not start in time', async () => {
    const hung = instance('setInterval(() => undefined, 1000);', 300);
    const url = await frontDoorTo(hung);
    const res = await fetch(`${url}/ok`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await hung.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
