'use client'

import { Check, Copy, Download } from 'lucide-react'
import { useId, useState } from 'react'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'

/**
 * A secret the API shows once (an API key, a signing secret, recovery codes): copy and
 * download, and a plain warning that it will not be shown again.
 */
export function SecretReveal({
  label,
  secret,
  downloadName,
}: {
  label: string
  secret: string
  downloadName?: string
}) {
  const [copied, setCopied] = useState(false)
  const [copyFailed, setCopyFailed] = useState(false)
  const id = useId()
  return (
    <Alert variant="success" className="grid gap-3">
      <label htmlFor={id} className="font-medium">
        {label}
      </label>
      <p>Copy it now: it will not be shown again.</p>
      <textarea
        id={id}
        readOnly
        rows={Math.min(12, secret.split('\n').length)}
        value={secret}
        className="w-full resize-none overflow-x-auto rounded-md border bg-background p-3 font-mono text-sm break-all"
        onFocus={(event) => event.currentTarget.select()}
      />
      <div className="flex flex-wrap gap-2">
        <Button
          size="sm"
          variant="outline"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(secret)
              setCopied(true)
            } catch {
              // No clipboard (plain http, a refused permission): the text is there to copy.
              setCopyFailed(true)
              document.getElementById(id)?.focus()
            }
          }}
        >
          {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
          {copied ? 'Copied' : 'Copy'}
        </Button>
        {downloadName ? (
          <Button
            size="sm"
            variant="outline"
            onClick={() => {
              const url = URL.createObjectURL(new Blob([`${secret}\n`], { type: 'text/plain' }))
              const link = document.createElement('a')
              link.href = url
              link.download = downloadName
              link.click()
              URL.revokeObjectURL(url)
            }}
          >
            <Download aria-hidden="true" /> Download
          </Button>
        ) : null}
      </div>
      {copyFailed ? (
        <p role="alert" className="text-sm">
          Copying did not work here: the text is selected, copy it with your keyboard.
        </p>
      ) : null}
      <span className="sr-only" role="status">
        {copied ? 'Copied to the clipboard' : ''}
      </span>
    </Alert>
  )
}
