import { createServer, type Server } from 'node:http';

/**
 * A loopback HTTP server that answers Graph's validation handshake the ways a misconfigured endpoint does:
 *   /echo           200 text/plain with the decoded token (a correct endpoint)
 *   /unauthorized   401, as Azure Functions answers a wrong or missing ?code= key
 *   /wrong-body     200 text/plain "OK"
 *   /json           200 application/json with the token
 *   /silent         never answers
 * Every request it got is kept (method, URL, content-type), to check what the caller sent.
 */
export interface HandshakeServer {
  readonly url: string;
  readonly requests: { method: string; url: string; contentType: string | undefined }[];
  close(): Promise<void>;
}

export async function startHandshakeServer(): Promise<HandshakeServer> {
  const requests: HandshakeServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const token = url.searchParams.get('validationToken') ?? '';
    req.resume();
    switch (url.pathname) {
      case '/echo':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(token);
        break;
      case '/unauthorized':
        res.writeHead(401).end();
        break;
      case '/wrong-body':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
        break;
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(token));
        break;
      case '/silent':
        break;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
