import { createTaskInput, updateTaskInput } from '@repo/schemas'
import { blankAsNull } from './form-values.ts'

/** What a task form sends: "Unassigned" and an empty date mean null, as the API spells it. */
const formFields = {
  assigneeId: blankAsNull(updateTaskInput.shape.assigneeId),
  dueDate: blankAsNull(updateTaskInput.shape.dueDate),
}

/** The API's task schemas, with the form's spelling of "none"; used in the browser and the action. */
export const createTaskForm = createTaskInput.extend(formFields)
export const updateTaskForm = updateTaskInput.extend(formFields)
