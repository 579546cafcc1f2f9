// pnpm api-client:generate: refresh openapi.json and the client types.
import { writeFileSync } from 'node:fs'
import { currentDocument, DOCUMENT_PATH, renderTypes, TYPES_PATH } from './openapi.ts'

const document = await currentDocument()
writeFileSync(DOCUMENT_PATH, document)
writeFileSync(TYPES_PATH, await renderTypes(document))
console.log('wrote openapi.json and src/generated/schema.ts')
