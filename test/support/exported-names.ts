/**
 * The names a module's source or declaration file exports through `export { … }` lists
 * (`a as b` exports `b`): values, types, or both.
 */
export function exportedNames(source: string, kind: 'value' | 'type' | 'all' = 'all'): string[] {
  const pattern = {
    value: /export \{([^}]*)\}/g,
    type: /export type \{([^}]*)\}/g,
    all: /export (?:type )?\{([^}]*)\}/g,
  }[kind];
  return [...source.matchAll(pattern)].flatMap(([, list]) =>
    list
      .split(',')
      .map((entry) =>
        entry
          .trim()
          .split(/\s+as\s+/)
          .pop()!,
      )
      .filter(Boolean),
  );
}
