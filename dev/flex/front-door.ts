import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { FlexInstance } from './flex-instance.js';

export interface FrontDoorOptions {
  readonly host: string;
  readonly port: number;
  /** An instance of the HTTP group ready to serve, started (and waited for) when none runs. */
  readonly instance: () => Promise<FlexInstance>;
  readonly log: (level: 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown>) => void;
}

/**
 * The app's one public endpoint, as Azure's front end is for a Flex app: each request goes to a running
 * instance of the HTTP group (the least busy), or waits while one starts when none runs (scale from zero).
 * The request and response pass unchanged (headers, query, chunked or sized body). An instance that dies
 * before it answers gives 502, so a sender such as Graph retries.
 */
export class FrontDoor {
  readonly #options: FrontDoorOptions;
  readonly #server: Server;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(options: FrontDoorOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => void this.#forward(req, res));
    this.#server.keepAliveTimeout = 5000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => resolve());
    });
    return `http://${this.#options.host}:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    this.#agent.destroy();
    await closed;
  }

  async #forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let instance: FlexInstance;
    try {
      instance = await this.#options.instance();
    } catch (e) {
      this.#options.log('error', 'flex.no_http_instance', { error: (e as Error).message });
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }).end('No instance of the HTTP group could be started.');
      req.resume();
      return;
    }
    instance.inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      instance.inFlight--;
      instance.lastActivity = performance.now();
    };
    res.once('close', finish);
    const upstream = request(new URL(req.url ?? '/', instance.url), { method: req.method, headers: req.headers, agent: this.#agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      // An instance that dies while it sends its body ends the client's response with an error, never a short 2xx.
      pipeline(answer, res, (e) => {
        if (e) res.destroy(e);
      });
    });
    // A client that goes away before its answer takes its request to the instance with it.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.once('error', (e) => {
      this.#options.log('warn', 'flex.instance_request_failed', { instance: instance.id, error: e.message });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end('The instance that took the request stopped before it answered.');
      else res.destroy();
      finish();
    });
    req.pipe(upstream);
  }
}
