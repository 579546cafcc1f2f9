import type {
  MembershipRole,
  ProjectStatus,
  TaskPriority,
  TaskStatus,
} from './generated/prisma/enums.ts'

interface DemoTask {
  title: string
  status: TaskStatus
  priority: TaskPriority
  /** The demo account of this role, or nobody. */
  assignee: MembershipRole | null
  /** Days after the day of seeding, so due dates look current whenever the demo starts. */
  dueInDays?: number
}

interface DemoProject {
  name: string
  description: string
  status: ProjectStatus
  tasks: DemoTask[]
}

/**
 * What the demo organization works on: every task status, priority and assignee (and
 * nobody) appears, and one project is archived, so each filter and view shows something.
 * Website relaunch comes first: older seeds made it alone, and keep it as they made it.
 */
export const DEMO_PROJECTS: DemoProject[] = [
  {
    name: 'Website relaunch',
    description: 'The marketing site, rebuilt on the new design system.',
    status: 'active',
    tasks: [
      {
        title: 'Draft the new home page',
        status: 'in_progress',
        priority: 'high',
        assignee: 'owner',
        dueInDays: 5,
      },
      {
        title: 'Collect customer quotes',
        status: 'todo',
        priority: 'medium',
        assignee: 'member',
        dueInDays: 10,
      },
      { title: 'Set up redirects for old URLs', status: 'todo', priority: 'low', assignee: null },
      {
        title: 'Choose the hero photography',
        status: 'done',
        priority: 'medium',
        assignee: 'admin',
      },
    ],
  },
  {
    name: 'Mobile app beta',
    description: 'iOS and Android builds for the first fifty customers.',
    status: 'active',
    tasks: [
      {
        title: 'Fix the crash when a session expires during sign-in',
        status: 'in_progress',
        priority: 'urgent',
        assignee: 'admin',
        dueInDays: 2,
      },
      {
        title: 'Invite the beta testers',
        status: 'todo',
        priority: 'high',
        assignee: 'owner',
        dueInDays: 4,
      },
      {
        title: 'Write the release notes',
        status: 'todo',
        priority: 'medium',
        assignee: 'member',
        dueInDays: 7,
      },
    ],
  },
  {
    name: 'Customer onboarding',
    description: 'Shorten the time from sign-up to the first project.',
    status: 'active',
    tasks: [
      {
        title: 'Add a sample project to new workspaces',
        status: 'in_progress',
        priority: 'high',
        assignee: 'admin',
        dueInDays: 12,
      },
      {
        title: 'Record a three-minute product tour',
        status: 'todo',
        priority: 'medium',
        assignee: 'member',
      },
      {
        title: 'Interview five recent sign-ups',
        status: 'done',
        priority: 'low',
        assignee: 'owner',
      },
    ],
  },
  {
    name: 'Pricing page experiment',
    description: 'Annual billing shown first, against monthly, for four weeks.',
    status: 'active',
    tasks: [
      {
        title: 'Agree on the success metric with sales',
        status: 'done',
        priority: 'high',
        assignee: 'owner',
      },
      {
        title: 'Ship the variant behind a feature flag',
        status: 'todo',
        priority: 'urgent',
        assignee: null,
        dueInDays: 3,
      },
    ],
  },
  {
    name: 'Legacy billing migration',
    description: 'Every customer moved off the old invoicing system.',
    status: 'archived',
    tasks: [
      {
        title: 'Export invoices from the old system',
        status: 'done',
        priority: 'high',
        assignee: 'admin',
      },
      {
        title: 'Decommission the old billing server',
        status: 'done',
        priority: 'medium',
        assignee: 'owner',
      },
      {
        title: 'Email customers about the new invoices',
        status: 'canceled',
        priority: 'low',
        assignee: 'member',
      },
    ],
  },
]
