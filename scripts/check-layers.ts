/**
 * The layering check behind `npm run lint` (DESIGN.md, "Layers"). Fails when:
 * - `policies/` imports anything of the project outside `policies/`, or a Node built-in
 *   (it must stay pure and importable into workflow code);
 * - `workflows/` value-imports `activities/`, `audit/`, the approval domain `approvals/` or `pg`
 *   (workflow code may only `import type` them and proxy activities; `PURE_FOR_WORKFLOWS` excepted);
 * - an arrow of the layering is reversed: `cli`, `worker`, `gateway`, `approvals/slack` (and
 *   `demo`, `examples`) → `client`, `workflows`, `activities` → `policies`, `audit`, `telemetry`, `approvals`
 *   (the approval domain: types, table, messages, ladder, vote check). A lower layer never
 *   imports a higher one; layers of one rank may import each other.
 *
 * The one exemption from the arrow rule: a type-only import of the workflow contract
 * (`workflows/contract.ts`), the shapes of the public messages every layer may name.
 * A folder's layer is its longest entry in `LAYER_RANK` (`approvals/slack/x.ts` → `approvals/slack`).
 * Usage: `node --import tsx scripts/check-layers.ts [root]`; prints each violation as `file:line: message`.
 */
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Rank of each layer folder: imports may point to the same or a lower rank only. */
export const LAYER_RANK: Readonly<Record<string, number>> = {
  cli: 2,
  demo: 2,
  examples: 2,
  worker: 2,
  gateway: 2,
  console: 2,
  'approvals/slack': 2,
  client: 1,
  workflows: 1,
  activities: 1,
  policies: 0,
  audit: 0,
  approvals: 0,
  telemetry: 0,
};

/** The module lower layers may import as types (the public message shapes). */
const CONTRACT = 'workflows/contract';
/** Modules of those layers workflow code may value-import: pure, importing nothing (what a person reads, `approvals/shown-text.ts`). */
const PURE_FOR_WORKFLOWS: ReadonlySet<string> = new Set(['approvals/shown-text']);

export interface ImportRef {
  readonly specifier: string;
  readonly line: number;
  readonly typeOnly: boolean;
}

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

const BUILTINS = new Set(builtinModules);

/** Every import, export-from, require() and import() of a source text. */
export function importsOf(fileName: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const out: ImportRef[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!clause.namedBindings &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ specifier: node.moduleSpecifier.text, line: lineOf(node), typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly =
        node.isTypeOnly ||
        (!!node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      out.push({ specifier: node.moduleSpecifier.text, line: lineOf(node), typeOnly });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      out.push({ specifier: node.moduleReference.expression.text, line: lineOf(node), typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1) {
      const arg = node.arguments[0];
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImport || isRequire) && arg && ts.isStringLiteralLike(arg)) out.push({ specifier: arg.text, line: lineOf(node), typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Path of a project file relative to `root`, `/`-separated, or undefined outside the project. */
function projectPath(root: string, absolute: string): string | undefined {
  const rel = relative(root, absolute);
  if (rel.startsWith('..') || rel === '') return undefined;
  return rel.split(sep).join('/');
}

/** The layer of a project path (a file, or a folder imported for its index): its longest prefix in `LAYER_RANK`. */
function layerOf(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const parts = path.split('/');
  for (let n = parts.length; n >= 1; n -= 1) {
    const folder = parts.slice(0, n).join('/');
    if (folder in LAYER_RANK) return folder;
  }
  return undefined;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0] ?? specifier);
}

/** The violations of one file (path relative to `root`). */
export function checkFile(root: string, file: string, text: string): Violation[] {
  const abs = resolve(root, file);
  const layer = layerOf(projectPath(root, abs));
  if (!layer) return [];
  const violations: Violation[] = [];
  const add = (line: number, message: string) => violations.push({ file, line, message });
  for (const ref of importsOf(file, text)) {
    const relativeImport = ref.specifier.startsWith('.');
    const targetPath = relativeImport ? projectPath(root, resolve(dirname(abs), ref.specifier)) : undefined;
    const target = layerOf(targetPath);

    if (layer === 'policies') {
      if (isBuiltin(ref.specifier)) add(ref.line, `policies must not import the node built-in \`${ref.specifier}\``);
      else if (relativeImport && target !== 'policies') add(ref.line, `policies must not import project code \`${ref.specifier}\``);
      continue;
    }
    if (layer === 'workflows' && !ref.typeOnly) {
      if (ref.specifier === 'pg' || ref.specifier.startsWith('pg/')) {
        add(ref.line, 'workflow code must not value-import `pg`');
        continue;
      }
      const pureForWorkflows = targetPath !== undefined && PURE_FOR_WORKFLOWS.has(targetPath.replace(/\.ts$/, ''));
      if ((target === 'activities' || target === 'audit' || target === 'approvals') && !pureForWorkflows) {
        add(ref.line, `workflow code must import \`${ref.specifier}\` as types only (\`import type\`)`);
        continue; // one message per import
      }
    }
    const contractTypes = ref.typeOnly && targetPath !== undefined && targetPath.replace(/\.ts$/, '') === CONTRACT;
    if (!contractTypes && target !== undefined && (LAYER_RANK[target] ?? 0) > (LAYER_RANK[layer] ?? 0)) {
      add(ref.line, `reversed layer arrow: \`${layer}\` must not import \`${target}\` (\`${ref.specifier}\`)`);
    }
  }
  return violations;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|tsx|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Checks every layer folder under `root`. */
export function checkLayers(root: string): { files: number; violations: Violation[] } {
  let files = 0;
  const violations: Violation[] = [];
  // Each top folder once: `approvals/slack` is walked as part of `approvals`.
  for (const top of new Set(Object.keys(LAYER_RANK).map((layer) => layer.split('/')[0] ?? layer))) {
    const dir = join(root, top);
    let exists = false;
    try {
      exists = statSync(dir).isDirectory();
    } catch {
      exists = false;
    }
    if (!exists) continue;
    for (const full of sourceFiles(dir)) {
      files += 1;
      violations.push(...checkFile(root, relative(root, full), readFileSync(full, 'utf8')));
    }
  }
  return { files, violations };
}

if (require.main === module) {
  const root = resolve(process.argv[2] ?? join(__dirname, '..'));
  const { files, violations } = checkLayers(root);
  for (const v of violations) process.stderr.write(`${v.file}:${v.line}: ${v.message}\n`);
  if (violations.length) {
    process.stderr.write(`check-layers: ${violations.length} violation(s) in ${files} files\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`check-layers: ${files} files, layering ok\n`);
  }
}
