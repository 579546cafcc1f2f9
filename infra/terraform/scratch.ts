// Scratch copies of infra/terraform for the tests: each check runs on the real files,
// then on a copy with one thing broken, to show the check notices.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const terraformDir = import.meta.dirname

/** One edit: the first `from` in `file` becomes `to`. */
export interface Edit {
  file: string
  from: string
  to: string
}

/** A scratch directory, and copies of parts of infra/terraform in it. */
export function scratchSpace(prefix: string) {
  // Made on first use: a test file whose tests are all skipped leaves nothing behind.
  let made: string | undefined
  const scratchDir = () => {
    made ??= mkdtempSync(join(tmpdir(), `groundwork-${prefix}-`))
    return made
  }
  let copies = 0
  return {
    /** A copy of `path` (relative to infra/terraform), with `edit` applied. */
    copyOf(path: string, edit?: Edit): string {
      const target = join(scratchDir(), `copy-${++copies}`)
      cpSync(join(terraformDir, path), target, {
        recursive: true,
        filter: (source) => !/[/\\](\.terraform|node_modules)$/.test(source),
      })
      if (edit) {
        const file = join(target, edit.file)
        const text = readFileSync(file, 'utf8')
        // A mutation that no longer applies would pass for the wrong reason.
        if (!text.includes(edit.from))
          throw new Error(`${edit.file} no longer contains ${edit.from}`)
        writeFileSync(file, text.replace(edit.from, edit.to))
      }
      return target
    },
    /** A new file in the scratch directory. */
    file(name: string, content: string): string {
      const path = join(scratchDir(), `${++copies}-${name}`)
      writeFileSync(path, content)
      return path
    },
    remove: () => {
      if (made) rmSync(made, { recursive: true, force: true })
    },
  }
}
