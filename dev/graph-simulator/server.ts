import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { routeTable } from '../http/route-table.js';
import { DRIVER_PREFIX, DRIVER_ROUTES } from './driver-routes.js';
import { GRAPH_ROUTES, graphCall } from './graph-routes.js';
import { GraphError, notFound } from './graph-error.js';
import type { GraphSimulator } from './graph-simulator.js';
import type { Answer, SimulatorRequest } from './route-exchange.js';

export { DRIVER_PREFIX } from './driver-routes.js';

export interface SimulatorServer {
  readonly url: string;
  close(): Promise<void>;
}

const graphRoute = routeTable(GRAPH_ROUTES);
const driverRoute = routeTable(DRIVER_ROUTES);

/**
 * Graph's own paths under /v1.0 and /beta (graph-routes.ts: the caller is identified first, so a request
 * without a token is 401 whatever its path), the driver API under DRIVER_PREFIX (driver-routes.ts), and the
 * token signing keys. Both tables end in a catch-all row that answers what Graph or the driver would (405, 404).
 */
async function answerOf(sim: GraphSimulator, req: SimulatorRequest, raw: readonly string[]): Promise<Answer> {
  // Decoding every segment first: a bad percent-escape anywhere fails the request (500) before any route runs.
  const [first, ...rest] = raw.map(decodeURIComponent);
  const restPath = raw.slice(1).join('/');
  if (first === 'v1.0' || first === 'beta') {
    const call = await graphCall(sim, req, first, rest);
    const route = graphRoute(req.method, restPath);
    if (route) return await route(call);
  } else if ('/' + first === DRIVER_PREFIX) {
    const route = driverRoute(req.method, restPath);
    if (route) return route({ sim, req });
  } else if (raw.length === 4 && rest[0] === 'discovery' && rest[1] === 'v2.0' && rest[2] === 'keys') return { status: 200, body: await sim.signer.jwks() };
  throw notFound(`No route for ${req.path}.`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GraphError(400, 'BadRequest', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

export async function createSimulatorServer(sim: GraphSimulator, host: string, port: number): Promise<SimulatorServer> {
  const server = createServer((incoming: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      let answer: Answer;
      try {
        const url = new URL(incoming.url ?? '/', 'http://simulator');
        const req: SimulatorRequest = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers, body: await readJson(incoming) };
        answer = await answerOf(sim, req, url.pathname.split('/').filter(Boolean));
      } catch (e) {
        const ge = e instanceof GraphError ? e : new GraphError(500, 'InternalServerError', (e as Error).message);
        res.writeHead(ge.status, { 'content-type': 'application/json', ...ge.headers }).end(ge.body(sim.clock.date()));
        return;
      }
      const headers = { ...(answer.body !== undefined ? { 'content-type': 'application/json; odata.metadata=minimal' } : {}), ...answer.headers };
      res.writeHead(answer.status, headers).end(answer.body !== undefined ? JSON.stringify(answer.body) : undefined);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
