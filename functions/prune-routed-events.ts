import { app } from '@azure/functions';
import { invocationLogger } from './adapters/invocation-logger.js';
import { routedEvents } from './adapters/runtime.js';

/** Daily: delete de-duplication records older than the window (Table storage has no TTL). */
app.timer('pruneRoutedEvents', {
  schedule: '0 30 3 * * *',
  handler: async (_timer, context) => {
    const deleted = await routedEvents.prune();
    invocationLogger(context).info('dedup.pruned', { deleted });
  },
});
