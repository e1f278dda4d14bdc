#!/usr/bin/env node
/**
 * Lists calls whose promise is dropped: an expression statement whose value is a Promise, neither
 * awaited, returned, nor marked with `void` (typescript-eslint's no-floating-promises, without
 * eslint). `npm run lint` (before every test run) checks src/; `--all` adds test/ and bench/.
 * Exits 1 and prints file:line when any is found.
 */
import ts from "typescript";
import { fileURLToPath } from "node:url";
import { dirname, join, relative } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Where to look: the shipped code by default; `--all` adds tests and benchmarks. */
const all = process.argv.includes("--all");
const DIRS = all ? ["src", "test", "bench"] : ["src"];
const configPath = join(root, all ? "tsconfig.json" : "tsconfig.build.json");
const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
const program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
const checker = program.getTypeChecker();
const found = [];

const isPromise = (type) => {
  if (type.isUnion()) return type.types.some(isPromise);
  return type.getSymbol()?.getName() === "Promise";
};

/** A chain that ends in .catch(handler), or .then(ok, failed), possibly followed by .finally(): handled. */
const handled = (call) => {
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) return false;
  const method = call.expression.name.text;
  if (method === "catch") return true;
  if (method === "then") return call.arguments.length >= 2;
  if (method === "finally") return handled(call.expression.expression);
  return false;
};

for (const file of program.getSourceFiles()) {
  if (file.isDeclarationFile || !DIRS.some((dir) => file.fileName.startsWith(join(root, dir)))) continue;
  const visit = (node) => {
    if (ts.isExpressionStatement(node)) {
      let expr = node.expression;
      while (ts.isParenthesizedExpression(expr)) expr = expr.expression;
      if (ts.isCallExpression(expr) && !handled(expr) && isPromise(checker.getTypeAtLocation(expr))) {
        const { line } = file.getLineAndCharacterOfPosition(node.getStart());
        found.push(`${relative(root, file.fileName)}:${line + 1}: ${node.getText().split("\n")[0].slice(0, 100)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}
if (found.length > 0) {
  console.log(`${found.length} dropped promise(s): await them, return them, or mark them with void and handle the rejection`);
  for (const line of found) console.log(`  ${line}`);
  process.exit(1);
}
console.log("no dropped promises");
