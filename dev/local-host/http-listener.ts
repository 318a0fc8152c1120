import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionRegistry, Registration, TypedData } from './core-api.js';
import type { HostLog } from './host-log.js';
import { invokeFunction, logInvocation } from './invoke-function.js';
import { compileRoute, type RouteMatcher } from '../http/route-template.js';
import { isAuthorized, presentedKey, type AuthLevel, type FunctionKeys } from './function-keys.js';

interface HttpRoute {
  readonly registration: Registration;
  readonly triggerName: string;
  readonly methods: ReadonlySet<string>;
  readonly match: RouteMatcher;
  readonly template: string;
  readonly authLevel: AuthLevel;
}

export interface HttpListenerOptions {
  readonly registry: FunctionRegistry;
  readonly log: HostLog;
  readonly routePrefix: string;
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly appHookData: Record<string, unknown>;
  /** host.json functionTimeout; an invocation over it answers 500. */
  readonly functionTimeoutMs?: number | undefined;
  /** The host's keys, when they are enforced (as in Azure); absent: every function is open (as under Core Tools). */
  readonly keys?: FunctionKeys;
}

/**
 * Serves every HTTP-triggered registration under the route prefix, as the host does: function keys enforced
 * when `keys` are given (as in Azure; not under Core Tools), methods are checked, the request is handed to the library as the worker's RPC shape and
 * the function's http output becomes the response.
 */
export class HttpListener {
  readonly #options: HttpListenerOptions;
  readonly #routes: HttpRoute[];
  readonly #server: Server;
  #inFlight = 0;
  #drained: (() => void) | undefined;

  constructor(options: HttpListenerOptions) {
    this.#options = options;
    this.#routes = options.registry.registrations.flatMap((registration) => {
      const entry = Object.entries(registration.metadata.bindings).find(([, b]) => b.type.toLowerCase() === 'httptrigger');
      if (!entry) return [];
      const [triggerName, binding] = entry;
      const template = (binding.route as string | undefined) ?? registration.metadata.name;
      const prefixed = [options.routePrefix, template].filter((s) => s).join('/');
      const methods = ((binding.methods as string[] | undefined) ?? ['GET', 'POST']).map((m) => m.toUpperCase());
      const level = typeof binding.authLevel === 'string' ? binding.authLevel.toLowerCase() : 'anonymous';
      const authLevel: AuthLevel = level === 'function' || level === 'admin' ? level : 'anonymous';
      return [{ registration, triggerName, methods: new Set(methods), match: compileRoute(prefixed), template: prefixed, authLevel }];
    });
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
  }

  get routes(): readonly { name: string; methods: string[]; path: string; authLevel: AuthLevel }[] {
    return this.#routes.map((r) => ({ name: r.registration.metadata.name, methods: [...r.methods], path: '/' + r.template, authLevel: r.authLevel }));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    return `http://${this.#options.host}:${address.port}`;
  }

  /** Stops accepting requests and waits for those in flight. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#inFlight++;
    try {
      await this.#serve(req, res);
    } catch (e) {
      this.#options.log.host('error', 'http.host_error', { error: (e as Error).message });
      if (!res.headersSent) res.writeHead(500).end();
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `${this.#options.host}`}`);
    const method = (req.method ?? 'GET').toUpperCase();
    let params: Record<string, string> | undefined;
    const route = this.#routes.find((r) => r.methods.has(method) && (params = r.match(url.pathname)) !== undefined);
    if (!route || !params) {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    const keys = this.#options.keys;
    if (keys && !isAuthorized(keys, route.registration.metadata.name, route.authLevel, presentedKey(url, req.headers))) {
      // As Azure answers a missing or wrong key: 401, no body; the function is not invoked.
      req.resume();
      this.#options.log.host('info', 'http.unauthorized', { function: route.registration.metadata.name, authLevel: route.authLevel });
      res.writeHead(401).end();
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.#options.maxBodyBytes) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    // As the real host gives the worker: a request without Content-Length (chunked) arrives with an empty body.
    const chunked = req.headers['content-length'] === undefined;
    if (chunked && size > 0) this.#options.log.host('warn', 'http.chunked_body_dropped', { method, path: url.pathname, bytes: size });
    const body = chunked ? Buffer.alloc(0) : Buffer.concat(chunks);

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] ??= v;
    const nullable = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { value: v }]));
    const http = {
      method,
      url: url.toString(),
      headers,
      nullableHeaders: nullable(headers),
      query,
      nullableQuery: nullable(query),
      params,
      nullableParams: nullable(params),
      body: { bytes: body },
    };

    const name = route.registration.metadata.name;
    const outcome = await invokeFunction(
      this.#options.registry,
      route.registration,
      { inputData: [{ name: route.triggerName, data: { http } }] },
      this.#options.log,
      this.#options.appHookData,
      this.#options.functionTimeoutMs,
    );
    if (!outcome.ok) {
      logInvocation(this.#options.log, name, 'http', outcome, { method, path: url.pathname, httpStatus: 500 });
      res.writeHead(500).end();
      return;
    }
    const output = this.#httpOutput(route.registration, outcome.response);
    const status = Number(output?.statusCode ?? 204) || 200;
    logInvocation(this.#options.log, name, 'http', outcome, { method, path: url.pathname, httpStatus: status });
    const responseHeaders: Record<string, string> = { ...(output?.headers ?? {}) };
    const bytes = output?.body?.bytes ? Buffer.from(output.body.bytes) : output?.body?.string !== undefined ? Buffer.from(output.body.string) : undefined;
    res.writeHead(status, responseHeaders);
    res.end(bytes && bytes.length > 0 ? bytes : undefined);
  }

  #httpOutput(
    registration: Registration,
    response: { outputData?: { name: string; data: TypedData | null | undefined }[]; returnValue?: TypedData | null },
  ): { statusCode?: string; headers?: Record<string, string>; body?: { bytes?: Uint8Array; string?: string } } | undefined {
    const bindings = registration.metadata.bindings;
    const ret = bindings.$return;
    if (ret && ret.type.toLowerCase() === 'http' && response.returnValue?.http) return response.returnValue.http;
    for (const out of response.outputData ?? []) {
      if (bindings[out.name]?.type.toLowerCase() === 'http' && out.data?.http) return out.data.http;
    }
    return undefined;
  }
}
