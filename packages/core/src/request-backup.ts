import { withNoContext } from '@repo/db'
import { nightlyBackupJob } from '@repo/jobs'
import type { OperatorActor } from './actor.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps } from './context.ts'
import { addToOutbox } from './outbox.ts'

/**
 * Asks for a backup now: the scheduled backup's own job (maintenance.nightly-backup),
 * recorded in the outbox with its audit entry in one transaction, so the request exists
 * exactly when its record does and survives a Redis outage. `requestId` travels in the
 * job's context, by which the caller can find the job once the relay has published it.
 */
export async function requestBackup(
  deps: Pick<CoreDeps, 'db'>,
  actor: OperatorActor,
  input: { requestId: string },
): Promise<void> {
  await withNoContext(deps.db, async (tx) => {
    await addToOutbox(tx, nightlyBackupJob, {}, { meta: { requestId: input.requestId } })
    await recordAudit(tx, {
      action: 'backup.requested',
      actorOperator: actor.operator,
      targetType: 'backup',
      metadata: { job: nightlyBackupJob.name, requestId: input.requestId },
    })
  })
}
