'use client'

import { Menu as BaseMenu } from '@base-ui/react/menu'
import Link from 'next/link'
import type { ComponentProps } from 'react'
import { cn } from '@/lib/utils.ts'

export const Menu = BaseMenu.Root
export const MenuTrigger = BaseMenu.Trigger

export function MenuContent({
  className,
  align = 'end',
  ...props
}: ComponentProps<typeof BaseMenu.Popup> & { align?: 'start' | 'center' | 'end' }) {
  return (
    <BaseMenu.Portal>
      <BaseMenu.Positioner className="z-50 outline-none" sideOffset={6} align={align}>
        <BaseMenu.Popup
          className={cn(
            'min-w-52 rounded-lg border bg-popover p-1 text-popover-foreground shadow-md outline-none transition-[scale,opacity] duration-100 data-ending-style:opacity-0 data-starting-style:opacity-0',
            className,
          )}
          {...props}
        />
      </BaseMenu.Positioner>
    </BaseMenu.Portal>
  )
}

const itemClasses =
  'flex w-full cursor-default items-center gap-2 rounded-md px-2 py-1.5 text-sm outline-none select-none data-highlighted:bg-accent data-highlighted:text-accent-foreground [&_svg]:size-4'

export function MenuItem({ className, ...props }: ComponentProps<typeof BaseMenu.Item>) {
  return <BaseMenu.Item className={cn(itemClasses, className)} {...props} />
}

/** A menu entry that navigates inside the app (client-side, like any Next link). */
export function MenuLinkItem({
  className,
  href,
  ...props
}: Omit<ComponentProps<typeof BaseMenu.LinkItem>, 'href'> & { href: string }) {
  return (
    <BaseMenu.LinkItem
      render={<Link href={href} />}
      className={cn(itemClasses, className)}
      {...props}
    />
  )
}

export function MenuSeparator({ className, ...props }: ComponentProps<typeof BaseMenu.Separator>) {
  return <BaseMenu.Separator className={cn('my-1 h-px bg-border', className)} {...props} />
}

export function MenuGroup(props: ComponentProps<typeof BaseMenu.Group>) {
  return <BaseMenu.Group {...props} />
}

export function MenuGroupLabel({
  className,
  ...props
}: ComponentProps<typeof BaseMenu.GroupLabel>) {
  return (
    <BaseMenu.GroupLabel
      className={cn('px-2 py-1.5 text-xs font-medium text-muted-foreground', className)}
      {...props}
    />
  )
}
