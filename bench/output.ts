import { writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

/** JSON as the project's Prettier would write it, so that `npm run lint` never trips on it. */
export async function writeJson(file: string, data: unknown): Promise<void> {
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(JSON.stringify(data), { ...options, filepath: file }));
}
