'use client'

import { useRef, useState } from 'react'
import type { DefaultValues, FieldValues } from 'react-hook-form'
import type { z } from 'zod'
import { Alert } from '@/components/ui/alert.tsx'
import { type Result, runAction, type UiProblem } from '@/lib/problem.ts'
import { ConflictChoice } from './conflict-choice.tsx'
import { FormProblem } from './fields.tsx'
import { useActionForm } from './use-action-form.ts'

interface Versioned {
  version: number
}

interface Options<Schema extends z.ZodType<FieldValues, FieldValues>, Entity extends Versioned> {
  schema: Schema
  entity: Entity
  /** The form's values for a version of the entity (the loaded one, or theirs after a 412). */
  toValues: (entity: Entity) => NoInfer<DefaultValues<z.input<Schema>>>
  /** Saves, sending the version the form is based on as If-Match. */
  save: (input: NoInfer<z.input<Schema>>, version: number) => Promise<Result<Versioned> | undefined>
  /** The entity as it is now, for the choice after a 412. */
  read: () => Promise<Result<Entity> | undefined>
}

/**
 * An edit form for a versioned resource (If-Match). When someone else saved first (412),
 * nothing typed is lost: `status` offers to save over theirs (with their version) or to
 * load theirs into the form. Shows "Saved." after a save until the next change.
 */
export function useVersionedForm<
  Schema extends z.ZodType<FieldValues, FieldValues>,
  Entity extends Versioned,
>({ schema, entity, toValues, save, read }: Options<Schema, Entity>) {
  // A ref: the "save mine" retry must send the version read a moment ago, not the first one.
  const version = useRef(entity.version)
  const [saved, setSaved] = useState(false)
  const { form, onSubmit, problem, setProblem, pending } = useActionForm({
    schema,
    defaultValues: toValues(entity),
    action: (input) => save(input, version.current),
    onSuccess: (data) => {
      version.current = data.version
      // The action revalidates the page; its answer carries the new version of it.
      setSaved(true)
    },
  })
  // Either choice reads their version first; if that fails, the form says why and stays.
  const readLatest = async () => {
    const latest = await runAction(read)
    if (latest?.ok) return latest.data
    if (latest) setProblem(latest.problem)
    return undefined
  }
  const keepMine = async () => {
    const latest = await readLatest()
    if (!latest) return
    version.current = latest.version
    await onSubmit()
  }
  const takeTheirs = async () => {
    const latest = await readLatest()
    if (!latest) return
    version.current = latest.version
    form.reset(toValues(latest))
    setProblem(null)
  }
  return {
    form,
    onSubmit,
    pending,
    onChange: () => setSaved(false),
    status: { problem, saved, keepMine, takeTheirs },
  }
}

/** The form's status line: the 412 choice, another problem, or "Saved.". */
export function VersionedFormStatus({
  what,
  status,
}: {
  what: string
  status: {
    problem: UiProblem | null
    saved: boolean
    keepMine: () => Promise<void>
    takeTheirs: () => Promise<void>
  }
}) {
  return (
    <>
      {status.problem?.status === 412 ? (
        <ConflictChoice what={what} onKeepMine={status.keepMine} onTakeTheirs={status.takeTheirs} />
      ) : (
        <FormProblem problem={status.problem} />
      )}
      {status.saved ? (
        <Alert role="status" variant="success">
          Saved.
        </Alert>
      ) : null}
    </>
  )
}
