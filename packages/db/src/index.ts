export { closeDb, createDatabaseClient, type DatabaseConfig, getDb } from './client.ts'
export type { Organization, User } from './generated/prisma/client.ts'
export { Prisma, type PrismaClient } from './generated/prisma/client.ts'
export { pingDatabase } from './ping.ts'
