'use client'

import { zodResolver } from '@hookform/resolvers/zod'
import { useState } from 'react'
import {
  type DefaultValues,
  type FieldValues,
  type Path,
  type UseFormReturn,
  useForm,
} from 'react-hook-form'
import type { z } from 'zod'
import type { Result, UiProblem } from '@/lib/problem.ts'
import { useStepUp } from './step-up.tsx'

interface Options<Schema extends z.ZodType<FieldValues, FieldValues>, T> {
  schema: Schema
  // NoInfer: the schema alone decides the form's types; the rest is checked against it.
  action: (input: NoInfer<z.input<Schema>>) => Promise<Result<T> | undefined>
  defaultValues?: NoInfer<DefaultValues<z.input<Schema>>>
  /** Gets the form too, so a form can reset itself without naming its own hook's result. */
  onSuccess?: (
    data: T,
    input: NoInfer<z.output<Schema>>,
    form: UseFormReturn<z.input<Schema>, unknown, z.output<Schema>>,
  ) => void
}

/**
 * A form validated in the browser by the same zod schema the Server Action and the API
 * use, submitted to the action, with the API's field errors put next to their fields and
 * anything else (429 with the time to wait, 403, 503) in `problem` for the form to show.
 */
export function useActionForm<Schema extends z.ZodType<FieldValues, FieldValues>, T>({
  schema,
  action,
  defaultValues,
  onSuccess,
}: Options<Schema, T>) {
  const form = useForm<z.input<Schema>, unknown, z.output<Schema>>({
    resolver: zodResolver(schema),
    ...(defaultValues ? { defaultValues } : {}),
    mode: 'onTouched',
  })
  const [problem, setProblem] = useState<UiProblem | null>(null)
  const guard = useStepUp()

  const onSubmit = form.handleSubmit(async (values) => {
    setProblem(null)
    // The action either answers or redirects; after a redirect there is nothing to show.
    const result = await guard(() => action(values as z.input<Schema>))
    if (!result) return
    if (result.ok) {
      onSuccess?.(result.data, values, form)
      return
    }
    const known = Object.keys(form.getValues())
    let focused = false
    for (const [field, message] of Object.entries(result.problem.fieldErrors)) {
      if (!known.includes(field)) continue
      form.setError(field as Path<z.input<Schema>>, { message }, { shouldFocus: !focused })
      focused = true
    }
    setProblem(result.problem)
  })

  return { form, onSubmit, problem, setProblem, pending: form.formState.isSubmitting }
}
