import Link from 'next/link'
import type { ReactNode } from 'react'

/** Sign-in, sign-up and the pages emails link to: one centred card. */
export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col items-center justify-center gap-6 px-4 py-12">
      <Link href="/" className="text-sm font-semibold tracking-widest text-primary uppercase">
        Groundwork
      </Link>
      <main className="w-full max-w-sm">{children}</main>
    </div>
  )
}
