'use client'

import { usePathname } from 'next/navigation'
import { useEffect, useRef } from 'react'

/**
 * After a client-side navigation took the focused element away with the old page (a link
 * in a list, the button of a form whose action redirected), focus goes to the new page's
 * h1: a keyboard or screen-reader user goes on from the top of the page they are on, not
 * from the start of the document. Focus that survived (a link in the header or the
 * organization's tabs) stays where it is, and a page the browser loaded starts as usual.
 */
export function FocusOnNavigate() {
  const pathname = usePathname()
  const shown = useRef(pathname)
  useEffect(() => {
    if (shown.current === pathname) return
    shown.current = pathname
    const active = document.activeElement
    if (active && active !== document.body) return
    const heading =
      document.querySelector<HTMLElement>('main h1') ?? document.querySelector<HTMLElement>('h1')
    if (!heading) return
    // Focusable by script only: a heading is not a stop on the Tab order.
    if (!heading.hasAttribute('tabindex')) heading.tabIndex = -1
    heading.focus()
  }, [pathname])
  return null
}
