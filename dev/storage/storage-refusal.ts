import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StorageService } from './storage-roles.js';

/** A refusal of Azure Storage's front end: its status, error code and message, as the service answers it. */
export interface StorageRefusal {
  readonly status: 401 | 403;
  readonly code: 'NoAuthenticationInformation' | 'InvalidAuthenticationInfo' | 'AuthorizationPermissionMismatch' | 'KeyBasedAuthenticationNotPermitted';
  /** Why a token was refused (Azure's AuthenticationErrorDetail: "Lifetime validation failed. The token is expired."). */
  readonly detail?: string;
}

const MESSAGES: Record<StorageRefusal['code'], string> = {
  NoAuthenticationInformation: 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
  InvalidAuthenticationInfo: 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
  AuthorizationPermissionMismatch: 'This request is not authorized to perform this operation using this permission.',
  KeyBasedAuthenticationNotPermitted: 'Key based authentication is not permitted on this storage account.',
};

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Answers `refusal` as Azure Storage does: `x-ms-request-id` and `x-ms-error-code` headers; the body an XML
 * `<Error>` for blob and queue, the OData JSON error for table, its message ending in the request id and
 * time; a 401 carries the bearer challenge (`WWW-Authenticate: Bearer authorization_uri=… resource_id=…`) that
 * the SDKs' challenge policy reads the tenant from. A HEAD answer has no body, as the service sends none.
 */
export function answerRefusal(req: IncomingMessage, res: ServerResponse, service: StorageService, tenantId: string, refusal: StorageRefusal): void {
  const requestId = randomUUID();
  const message = `${MESSAGES[refusal.code]}\nRequestId:${requestId}\nTime:${new Date().toISOString().replace('Z', '0000Z')}`;
  const body =
    service === 'table'
      ? JSON.stringify({ 'odata.error': { code: refusal.code, message: { lang: 'en-US', value: message } } })
      : `<?xml version="1.0" encoding="utf-8"?><Error><Code>${refusal.code}</Code><Message>${xml(message)}</Message>${
          refusal.detail ? `<AuthenticationErrorDetail>${xml(refusal.detail)}</AuthenticationErrorDetail>` : ''
        }</Error>`;
  const headers: Record<string, string> = {
    'content-type': service === 'table' ? 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8' : 'application/xml',
    'x-ms-request-id': requestId,
    'x-ms-error-code': refusal.code,
  };
  const version = req.headers['x-ms-version'];
  if (typeof version === 'string') headers['x-ms-version'] = version;
  if (refusal.status === 401) headers['www-authenticate'] = `Bearer authorization_uri=https://login.microsoftonline.com/${tenantId}/oauth2/authorize resource_id=https://storage.azure.com`;
  res.writeHead(refusal.status, headers).end(req.method === 'HEAD' ? undefined : body);
}
