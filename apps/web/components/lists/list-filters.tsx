import { Button } from '@/components/ui/button.tsx'
import { Input, Label, NativeSelect } from '@/components/ui/input.tsx'

interface Select {
  name: string
  label: string
  options: { value: string; label: string }[]
}

interface Props {
  path: string
  state: Record<string, unknown>
  search?: { name: string; label: string }
  selects: Select[]
}

/**
 * A list's search, filters and sort as a GET form: the state lives in the URL (shareable,
 * back button, reload), a new filter starts from the first page, and it works before any
 * JavaScript has loaded.
 */
export function ListFilters({ path, state, search, selects }: Props) {
  const value = (name: string) => (state[name] === undefined ? '' : String(state[name]))
  return (
    <search>
      <form method="get" action={path} className="flex flex-wrap items-end gap-3">
        {search ? (
          <div className="grid min-w-48 flex-1 gap-2">
            <Label htmlFor={`filter-${search.name}`}>{search.label}</Label>
            <Input
              id={`filter-${search.name}`}
              name={search.name}
              type="search"
              defaultValue={value(search.name)}
              maxLength={100}
            />
          </div>
        ) : null}
        {selects.map((select) => (
          <div key={select.name} className="grid gap-2">
            <Label htmlFor={`filter-${select.name}`}>{select.label}</Label>
            <NativeSelect
              id={`filter-${select.name}`}
              name={select.name}
              defaultValue={value(select.name)}
            >
              {select.options.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </NativeSelect>
          </div>
        ))}
        <Button type="submit" variant="secondary">
          Apply
        </Button>
      </form>
    </search>
  )
}
