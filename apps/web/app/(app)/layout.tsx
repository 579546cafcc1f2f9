import type { ReactNode } from 'react'
import { StepUpProvider } from '@/components/forms/step-up.tsx'
import { AppHeader } from '@/components/shell/app-header.tsx'
import { currentUser, myOrganizations } from '@/lib/server/api.ts'

/** Every signed-in page: the session is checked here and again by each API call. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const [user, organizations] = await Promise.all([currentUser(), myOrganizations()])
  return (
    <div className="flex min-h-dvh flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-background focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <AppHeader user={user} organizations={organizations.data} />
      <StepUpProvider>
        <main
          id="main"
          tabIndex={-1}
          className="mx-auto w-full max-w-6xl flex-1 px-4 py-8 outline-none"
        >
          {children}
        </main>
      </StepUpProvider>
    </div>
  )
}
