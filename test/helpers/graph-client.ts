/** A bare Graph HTTP client for simulator tests: JSON in, status and JSON out. */
export interface GraphAnswer {
  status: number;
  headers: Headers;
  body: any;
}

export function graphClient(baseUrl: string, token: string | null = 'test-token') {
  const call = async (method: string, path: string, body?: unknown): Promise<GraphAnswer> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body ?? {}),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

/** A JWT-shaped bearer token (unsigned; the simulator reads its claims as Graph would trust them). */
export function bearerFor(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.sig`;
}

export const inMinutes = (minutes: number, from = Date.now()) => new Date(from + minutes * 60_000).toISOString();

/**
 * Subscribes (in the simulator at `baseUrl`) to a chat's messages with resource data encrypted to `certificate`,
 * delivered to the host at `hostUrl`'s notification and lifecycle endpoints, for two hours.
 */
export function subscribeToChatMessages(
  baseUrl: string,
  options: { chatId: string; hostUrl: string; clientState: string; certificate: { certificateBase64: string; id: string } },
): Promise<GraphAnswer> {
  return graphClient(baseUrl).post('/v1.0/subscriptions', {
    resource: `/chats/${options.chatId}/messages`,
    changeType: 'created,updated,deleted',
    notificationUrl: `${options.hostUrl}/api/notifications`,
    lifecycleNotificationUrl: `${options.hostUrl}/api/lifecycle`,
    expirationDateTime: inMinutes(120),
    clientState: options.clientState,
    includeResourceData: true,
    encryptionCertificate: options.certificate.certificateBase64,
    encryptionCertificateId: options.certificate.id,
  });
}
