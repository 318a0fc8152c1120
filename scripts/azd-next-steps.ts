#!/usr/bin/env node
/**
 * `node dist/scripts/azd-next-steps.js provisioned | deployed`: what azure.yaml's postprovision and postdeploy hooks
 * print, the commands of docs/deploy.md still to run, filled in with the outputs azd put into the environment.
 * It changes nothing. Exit codes: 0 printed, 2 bad usage.
 */
const stage = process.argv[2];
if (stage !== 'provisioned' && stage !== 'deployed') {
  process.stderr.write('usage: node dist/scripts/azd-next-steps.js provisioned | deployed\n');
  process.exit(2);
}
const env = (name: string) => process.env[name]?.trim() || `<${name}>`;
const app = env('FUNCTION_APP_NAME');
const group = env('AZURE_RESOURCE_GROUP');
const vault = env('KEY_VAULT_NAME');
const managing = (process.env.MANAGE_SUBSCRIPTIONS ?? '').toLowerCase() === 'true';

const provisioned = managing
  ? [`Provisioned; the app manages the subscriptions of subscriptions.json (the clientState and the certificate in ${vault} kept).`]
  : [
      `Provisioned; the clientState and the encryption certificate are in ${vault}.`,
      'Next (docs/deploy.md, step 4), once per environment:',
      `  - Graph application permissions for the app's identity ${env('MANAGED_IDENTITY_PRINCIPAL_ID')} (or your app registration), admin consent.`,
    ];
// Step 6 exactly as docs/deploy.md has it: the key goes into a variable, never onto the terminal.
const deployed = managing
  ? ['Deployed; the app manages the subscriptions of subscriptions.json. Check them:', '  npm run subscriptions -- status   (settings as in docs/deploy.md, step 9)']
  : [
      'Deployed. Before any subscription (docs/deploy.md, steps 6-8):',
      '  KEY=$(openssl rand -hex 32)',
      `  az functionapp keys set -g ${group} -n ${app} --key-type functionKeys --key-name graph --key-value "$KEY" -o none`,
      `  az keyvault secret set --vault-name ${vault} -n graph-notification-url --value "${env('NOTIFICATION_URL')}?code=$KEY" -o none`,
      `  az keyvault secret set --vault-name ${vault} -n graph-lifecycle-url --value "${env('LIFECYCLE_URL')}?code=$KEY" -o none`,
      '  unset KEY',
      `  export GRAPH_NOTIFICATION_URL=$(az keyvault secret show --vault-name ${vault} -n graph-notification-url --query value -o tsv)   (step 7)`,
      `  export GRAPH_LIFECYCLE_URL=$(az keyvault secret show --vault-name ${vault} -n graph-lifecycle-url --query value -o tsv)`,
      '  npm run subscriptions -- check-endpoints',
      '  azd env set MANAGE_SUBSCRIPTIONS true && azd provision',
    ];
process.stdout.write(`${(stage === 'provisioned' ? provisioned : deployed).join('\n')}\n`);
