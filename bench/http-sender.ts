import { Agent, request } from 'node:http';

/**
 * POSTs JSON bodies to one loopback URL over kept-alive connections with `node:http`, the HTTP stack the
 * Azure SDK's clients use too, so that a benchmark weighs the receive path and a raw storage call with the
 * same client costs (`fetch`'s own client adds about 0.4 ms a request on this machine). Answers the status.
 */
export function createHttpSender(url: string, maxSockets = 64): { post(body: string): Promise<number>; close(): void } {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    post: (body) =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname + target.search,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.once('end', () => resolve(res.statusCode ?? 0));
            res.once('error', reject);
          },
        );
        req.once('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}
