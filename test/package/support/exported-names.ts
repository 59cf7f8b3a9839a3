import ts from 'typescript';

export interface ExportedNames {
  /** Names that exist at run time: classes, functions, constants. */
  values: string[];
  /** Names that exist for the type checker only: interfaces and type aliases. */
  types: string[];
}

/**
 * Every name each entry file exports, as the type checker sees it (re-exports followed), sorted.
 * The types matter as much as the values: a type an app names is as much a contract.
 */
export function exportedNames(files: Record<string, string>): Record<string, ExportedNames> {
  const program = ts.createProgram(Object.values(files), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const result: Record<string, ExportedNames> = {};
  for (const [entry, file] of Object.entries(files)) {
    const source = program.getSourceFile(file);
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${file} is not a module`);
    const names: ExportedNames = { values: [], types: [] };
    for (const symbol of checker.getExportsOfModule(module)) {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? names.values : names.types).push(symbol.name);
    }
    names.values.sort();
    names.types.sort();
    result[entry] = names;
  }
  return result;
}
