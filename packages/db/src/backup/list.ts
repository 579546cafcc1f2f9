import type { Manifest } from './manifest.ts'
import { manifestSchema } from './manifest.ts'
import { openStorage, type S3Settings } from './storage.ts'

/** The complete backups (those with a manifest) at `destination`, newest first. */
export async function listBackups(destination: string, s3?: S3Settings): Promise<Manifest[]> {
  const storage = await openStorage(destination, s3)
  const manifests: Manifest[] = []
  for (const file of await storage.list()) {
    if (!file.endsWith('.manifest.json') || file.startsWith('.')) continue
    let text = ''
    for await (const chunk of await storage.read(file)) text += chunk
    const parsed = manifestSchema.safeParse(JSON.parse(text))
    if (parsed.success) manifests.push(parsed.data)
  }
  return manifests.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}
