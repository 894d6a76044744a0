import type { Team } from '@/api/teams'

/** A team in the tree, with its sub-teams sorted by name. */
export interface TeamNode {
  id: number
  name: string
  parent_id: number | null
  member_count: number
  depth: number
  children: TeamNode[]
}

/** A team for a flat picker: depth-first order, `depth` for the indent. */
export interface TeamOption {
  id: number
  name: string
  depth: number
  /** The names from the top down, e.g. 华北区 / 北京组. */
  path: string
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name, 'zh-CN')

/**
 * The teams as a forest. A team whose parent is missing (or that sits in a cycle the
 * server should have refused) is shown at the top level rather than lost.
 */
export function buildTeamTree(teams: readonly Team[]): TeamNode[] {
  const nodes = new Map<number, TeamNode>()
  for (const t of teams) {
    nodes.set(t.id, { id: t.id, name: t.name, parent_id: t.parent_id, member_count: t.member_count, depth: 0, children: [] })
  }
  const roots: TeamNode[] = []
  for (const n of nodes.values()) {
    const parent = n.parent_id !== null ? nodes.get(n.parent_id) : undefined
    if (parent && !isAncestor(nodes, n.id, parent.id)) parent.children.push(n)
    else roots.push(n)
  }
  const visit = (list: TeamNode[], depth: number) => {
    list.sort(byName)
    for (const n of list) {
      n.depth = depth
      visit(n.children, depth + 1)
    }
  }
  visit(roots, 0)
  return roots
}

/** Whether `id` is `of` or one of its ancestors (guards against cycles in the data). */
function isAncestor(nodes: Map<number, TeamNode>, id: number, of: number): boolean {
  const seen = new Set<number>()
  let cur: number | null = of
  while (cur !== null && !seen.has(cur)) {
    if (cur === id) return true
    seen.add(cur)
    cur = nodes.get(cur)?.parent_id ?? null
  }
  return false
}

/** Depth-first list for selects; `exclude` drops a team and everything under it. */
export function teamOptions(tree: readonly TeamNode[], exclude?: number): TeamOption[] {
  const out: TeamOption[] = []
  const walk = (list: readonly TeamNode[], prefix: string) => {
    for (const n of list) {
      if (n.id === exclude) continue
      const path = prefix ? `${prefix} / ${n.name}` : n.name
      out.push({ id: n.id, name: n.name, depth: n.depth, path })
      walk(n.children, path)
    }
  }
  walk(tree, '')
  return out
}
