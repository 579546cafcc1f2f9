'use client'

import { type ReactNode, useId, useSyncExternalStore } from 'react'
import type { FieldValues, Path, UseFormReturn } from 'react-hook-form'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { Input, Label, NativeSelect, Textarea } from '@/components/ui/input.tsx'
import type { UiProblem } from '@/lib/problem.ts'
import { cn } from '@/lib/utils.ts'

/** "is required" reads as "Email is required"; a whole sentence stays as it is. */
export function fieldMessage(label: string, message: string): string {
  return /^[a-z]/.test(message) ? `${label} ${message}` : message
}

interface FieldProps<Values extends FieldValues> {
  form: UseFormReturn<Values, unknown, FieldValues>
  name: Path<Values>
  label: string
  description?: ReactNode
  className?: string
}

/**
 * What a labelled field needs: the frame (label, description, the error in words) and the
 * control's props (id, aria-invalid, aria-describedby and react-hook-form's registration).
 */
function useField<Values extends FieldValues>(props: FieldProps<Values>) {
  const { form, name, label, description, className } = props
  const id = useId()
  const error = form.formState.errors[name]?.message
  const message = typeof error === 'string' ? fieldMessage(label, error) : undefined
  const errorId = `${id}-error`
  const descriptionId = `${id}-description`
  const describedBy =
    [description ? descriptionId : '', message ? errorId : ''].filter(Boolean).join(' ') ||
    undefined
  return {
    frame: { id, label, description, descriptionId, message, errorId, className },
    control: {
      id,
      'aria-invalid': message ? true : undefined,
      'aria-describedby': describedBy,
      ...form.register(name),
    },
  }
}

function FieldFrame({
  id,
  label,
  description,
  descriptionId,
  message,
  errorId,
  className,
  children,
}: {
  id: string
  label: string
  description?: ReactNode
  descriptionId: string
  message: string | undefined
  errorId: string
  className?: string | undefined
  children: ReactNode
}) {
  return (
    <div className={cn('grid gap-2', className)}>
      <Label htmlFor={id}>{label}</Label>
      {children}
      {description ? (
        <p id={descriptionId} className="text-sm text-muted-foreground">
          {description}
        </p>
      ) : null}
      {message ? (
        <p id={errorId} className="text-sm text-destructive">
          {message}
        </p>
      ) : null}
    </div>
  )
}

export function TextField<Values extends FieldValues>(
  props: FieldProps<Values> & {
    type?: 'text' | 'email' | 'password' | 'search' | 'url' | 'date'
    autoComplete?: string
    inputMode?: 'numeric' | 'text'
    placeholder?: string
  },
) {
  const { frame, control } = useField(props)
  const { type = 'text', autoComplete, inputMode, placeholder } = props
  return (
    <FieldFrame {...frame}>
      <Input
        type={type}
        autoComplete={autoComplete}
        inputMode={inputMode}
        placeholder={placeholder}
        {...control}
      />
    </FieldFrame>
  )
}

export function TextAreaField<Values extends FieldValues>(props: FieldProps<Values>) {
  const { frame, control } = useField(props)
  return (
    <FieldFrame {...frame}>
      <Textarea {...control} />
    </FieldFrame>
  )
}

export function SelectField<Values extends FieldValues>(
  props: FieldProps<Values> & { options: readonly { value: string; label: string }[] },
) {
  const { frame, control } = useField(props)
  return (
    <FieldFrame {...frame}>
      <NativeSelect {...control}>
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </NativeSelect>
    </FieldFrame>
  )
}

/** The form's own message (not tied to a field), announced as it appears. */
export function FormProblem({ problem }: { problem: UiProblem | null }) {
  if (!problem) return null
  return (
    <Alert variant="destructive" role="alert">
      {problem.message}
    </Alert>
  )
}

const noSubscription = () => () => {}

/** False in the server's HTML, true once React runs in the browser. */
function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  )
}

/**
 * Keeps its name while the action runs (tests and screen readers find it by name), and
 * waits for the page's JavaScript: a click before it would post the form natively. Not
 * `disabled` while pending: a disabled button drops the keyboard focus it had on the
 * document's body; it says it is unavailable and ignores a second submit instead.
 */
export function SubmitButton({
  pending,
  children,
  className,
  variant,
}: {
  pending: boolean
  children: ReactNode
  className?: string
  variant?: 'default' | 'destructive'
}) {
  const hydrated = useHydrated()
  return (
    <Button
      type="submit"
      disabled={!hydrated}
      aria-disabled={pending || undefined}
      aria-busy={pending}
      onClick={(event) => {
        if (pending) event.preventDefault()
      }}
      className={cn('aria-disabled:cursor-not-allowed aria-disabled:opacity-50', className)}
      variant={variant}
    >
      {children}
    </Button>
  )
}

/** Several choices of one list (scopes, events): a fieldset whose legend names them. */
export function CheckboxGroupField<Values extends FieldValues>(
  props: FieldProps<Values> & { options: readonly { value: string; label: string }[] },
) {
  const { frame, control } = useField(props)
  // The fieldset is the field: its legend names the choices and its error describes it.
  return (
    <fieldset
      className={cn('grid gap-2', frame.className)}
      aria-invalid={control['aria-invalid']}
      aria-describedby={control['aria-describedby']}
    >
      <legend className="mb-2 text-sm font-medium">{frame.label}</legend>
      {props.options.map((option) => (
        <label key={option.value} className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            value={option.value}
            className="size-4 accent-primary"
            {...props.form.register(props.name)}
          />
          <span className="font-mono text-xs">{option.label}</span>
        </label>
      ))}
      {frame.message ? (
        <p id={frame.errorId} className="text-sm text-destructive">
          {frame.message}
        </p>
      ) : null}
    </fieldset>
  )
}
