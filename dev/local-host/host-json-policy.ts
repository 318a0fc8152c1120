/**
 * What the local host does with each host.json setting the Azure host reads: honour it, note at start that it
 * has no local counterpart (it shapes only Azure's telemetry or platform), or refuse to start, naming it,
 * because the app would behave differently in Azure. Nothing is ignored silently. Keys are compared without
 * case, as the host's configuration does.
 */
type Rule =
  | { readonly kind: 'honoured' }
  | { readonly kind: 'note'; readonly why: string }
  | { readonly kind: 'refuse'; readonly why: string }
  | { readonly kind: 'section'; readonly children: Readonly<Record<string, Rule>>; readonly other: Rule };

const honoured: Rule = { kind: 'honoured' };
const note = (why: string): Rule => ({ kind: 'note', why });
const refuse = (why: string): Rule => ({ kind: 'refuse', why });

export const APP_INSIGHTS_NOTE =
  'Application Insights exists only in Azure: there its sampling (on unless samplingSettings.isEnabled is false; about 20 items per second per instance by default) can leave log lines out of Application Insights, never out of the console; the local host writes every line to stdout, none sampled.';

const POLICY: Rule = {
  kind: 'section',
  children: {
    version: honoured,
    functiontimeout: honoured,
    functions: honoured,
    logging: {
      kind: 'section',
      children: {
        loglevel: honoured,
        applicationinsights: note(APP_INSIGHTS_NOTE),
        console: note("console options shape the Azure host's console output; the local host writes one JSON line per log to stdout."),
        fileloggingmode: note("file logs are written under the Azure host's log folder; the local host writes none."),
      },
      other: refuse('the local host knows no such logging setting.'),
    },
    extensionbundle: note("the bundle picks the binding extensions' versions in Azure; the local host implements the HTTP, storage queue and timer triggers itself."),
    extensions: {
      kind: 'section',
      children: {
        http: { kind: 'section', children: { routeprefix: honoured }, other: refuse('the local host implements routePrefix only (no HTTP throttles, custom headers or HSTS).') },
        queues: {
          kind: 'section',
          children: { batchsize: honoured, newbatchthreshold: honoured, maxpollinginterval: honoured, visibilitytimeout: honoured, maxdequeuecount: honoured, messageencoding: honoured },
          other: refuse('the Storage queue extension has no such setting.'),
        },
      },
      other: refuse('the local host serves HTTP, storage queue and timer triggers only.'),
    },
    aggregator: note('it batches invocation metrics for Application Insights, which exists only in Azure.'),
    healthmonitor: note('host health monitoring exists only in Azure.'),
    telemetrymode: note(
      "in Azure, OpenTelemetry mode makes the host leave the worker's log lines to the worker (which declares WorkerOpenTelemetryEnabled) instead of sending them again; locally every line goes to stdout.",
    ),
    watchdirectories: note('the Azure host restarts when watched files change; the local host loads the app once: restart it after a build.'),
    watchfiles: note('the Azure host restarts when watched files change; the local host loads the app once: restart it after a build.'),
    singleton: note('singleton locks coordinate instances; one local host is one instance.'),
    retry: refuse('host-wide retry policies are not implemented by the local host: failed timer runs would be retried in Azure and not locally.'),
    concurrency: refuse('dynamic concurrency changes how many queue messages the host fetches; the local host implements the fixed batchSize/newBatchThreshold model only.'),
    customhandler: refuse('custom handlers are not Node.js apps; the local host runs the Node.js worker model only.'),
    httpworker: refuse('custom handlers are not Node.js apps; the local host runs the Node.js worker model only.'),
    manageddependency: refuse('managed dependencies are for PowerShell apps.'),
    manageddependencies: refuse('managed dependencies are for PowerShell apps.'),
    http: refuse('a host.json version 1 section: in version 2.0 it belongs under "extensions".'),
    queues: refuse('a host.json version 1 section: in version 2.0 it belongs under "extensions".'),
    servicebus: refuse('a host.json version 1 section: in version 2.0 it belongs under "extensions".'),
    eventhub: refuse('a host.json version 1 section: in version 2.0 it belongs under "extensions".'),
    sendcanceledinvocationstoworker: refuse('the local host does not cancel invocations, so it cannot honour this.'),
    metadataprovidertimeout: refuse('the local host reads function metadata in-process and has no such timeout.'),
  },
  other: refuse('not a host.json setting the local host knows (a typo?).'),
};

export interface HostJsonReview {
  /** Settings the Azure host applies and the local host has no counterpart for, with why that is harmless. */
  readonly notes: readonly { readonly setting: string; readonly why: string }[];
  /** Settings that would make the app behave differently in Azure; the local host refuses to start. */
  readonly refusals: readonly string[];
}

/** Walks host.json against the policy. */
export function reviewHostJson(json: Record<string, unknown>): HostJsonReview {
  const spelled = (path: string[]) => path.join('.');
  const notes: { setting: string; why: string }[] = [];
  const refusals: string[] = [];
  const walk = (value: unknown, rule: Rule, path: string[]) => {
    if (rule.kind === 'honoured') return;
    if (rule.kind === 'note') {
      notes.push({ setting: spelled(path), why: rule.why });
      return;
    }
    if (rule.kind === 'refuse') {
      refusals.push(`host.json sets ${spelled(path)}, which the Azure host honours and the local host does not: ${rule.why}`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      if (path.length > 0) refusals.push(`host.json ${spelled(path)} must be an object.`);
      return;
    }
    for (const [key, child] of Object.entries(value)) walk(child, rule.children[key.toLowerCase()] ?? rule.other, [...path, key]);
  };
  walk(json, POLICY, []);
  return { notes, refusals };
}
