import { CompiledTemplateError } from './compiled-template-error.js';

/**
 * Azure's built-in roles the template may assign, by role definition id (the same in every tenant and cloud;
 * learn.microsoft.com/azure/role-based-access-control/built-in-roles). A template naming an id not here gets
 * an error, as a mistyped id gets RoleDefinitionDoesNotExist from Azure.
 */
const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
  '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1': 'Storage Blob Data Reader',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '8a0f0c08-91a1-4084-bc3d-661d67233fed': 'Storage Queue Data Message Processor',
  'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a': 'Storage Queue Data Message Sender',
  '19e7f393-937e-4f77-808e-94535e297925': 'Storage Queue Data Reader',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '76199698-9eea-4c19-bc75-cec21354c6b6': 'Storage Table Data Reader',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
  'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba': 'Key Vault Certificate User',
  '4633458b-17de-408a-b874-0445c86b69e6': 'Key Vault Secrets User',
  'a4417e6f-fecd-4de8-b567-7b0420556985': 'Key Vault Certificates Officer',
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': 'Key Vault Secrets Officer',
  '00482a5a-887f-4fb3-b363-3b7fe8e74483': 'Key Vault Administrator',
};

/** The built-in role's name for a role definition id (a bare GUID or a full `/providers/.../roleDefinitions/<id>`). */
export function builtInRoleName(roleDefinitionId: string): string {
  const id = roleDefinitionId.split('/').at(-1)?.toLowerCase() ?? '';
  const name = BUILT_IN_ROLES[id];
  if (!name) throw new CompiledTemplateError(`The template assigns role definition ${roleDefinitionId}, which is no built-in role the stack knows.`);
  return name;
}
