/**
 * Sets environment variables of this process, as the platform sets them for a function app's worker (the
 * @azure/identity credentials read theirs when they are built). The returned function puts them back as they were.
 */
export function setProcessEnv(values: Readonly<Record<string, string>>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
