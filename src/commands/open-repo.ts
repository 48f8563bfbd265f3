// Opens a repository only to read it: a missing one is an error, never created (export and diff write nothing).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.ts';
import { GitReader } from '../history/reader.ts';
import { openRepo } from '../sync/run.ts';

export async function openRepoToRead(config: Config): Promise<GitReader> {
  const dir = config.repo;
  if (!existsSync(join(dir, '.git', 'HEAD')) && !(existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects')))) {
    throw new Error(`no git repository at ${dir} (give --repo DIR or repo in the config)`);
  }
  return new GitReader(await openRepo(config));
}
