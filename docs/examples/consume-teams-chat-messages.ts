// A downstream Azure Function (Node.js v4 model) in *your* app that consumes teams-change-relay's events.
// Messages are base64 JSON, so the queue trigger hands over the parsed CloudEvent with no setting.
import { app, type InvocationContext } from '@azure/functions';
import { BlobClient } from '@azure/storage-blob';
import { DefaultAzureCredential } from '@azure/identity';

interface TeamsEvent {
  id: string;
  type: string;
  subject: string;
  changetype: 'created' | 'updated' | 'deleted';
  chatid?: string;
  messageid?: string;
  datamode: 'resource' | 'reference';
  data?: { body?: { content?: string }; deletedDateTime?: string | null };
  dataref?: string;
}

const seen = new Set<string>(); // use your database's unique key in production: delivery is at-least-once

app.storageQueue('archiveChatMessages', {
  queueName: 'teams-chat-messages',
  connection: 'RelayStorage', // app setting (or RelayStorage__queueServiceUri for identity-based access)
  handler: async (event: TeamsEvent, context: InvocationContext) => {
    if (seen.has(event.id)) return; // same id = same change: safe to skip
    const full: TeamsEvent = event.dataref ? (JSON.parse((await new BlobClient(event.dataref, new DefaultAzureCredential()).downloadToBuffer()).toString('utf8')) as TeamsEvent) : event;
    context.log(`${full.type} ${full.subject}`); // log ids, never message contents
    // … store full.data (the chatMessage as Graph returns it) keyed by full.id …
    seen.add(event.id);
  },
});
