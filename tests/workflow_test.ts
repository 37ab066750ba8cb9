import assert from "node:assert/strict";
import { parse } from "yaml";
import { ROOT } from "./helpers/server.ts";

// deno-lint-ignore no-explicit-any -- a parsed workflow is arbitrary YAML
type Yaml = any;

const workflow: Yaml = parse(
  Deno.readTextFileSync(`${ROOT}.github/workflows/performance.yml`),
);
const ciRun = Deno.readTextFileSync(`${ROOT}.ci/run`);
const steps: Yaml[] = workflow.jobs.performance.steps;
const scripts = steps.map((s) => s.run ?? "").join("\n");

Deno.test("workflow - performance.yml runs on pull requests and pushes to main", () => {
  assert.equal(workflow.name, "Performance Tests");
  assert.deepEqual(workflow.on.pull_request.branches, ["main"]);
  assert.deepEqual(workflow.on.push.branches, ["main"]);
});

Deno.test("workflow - it installs what .ci/run installs and requires the same programs", () => {
  const packages = [...ciRun.matchAll(/need_apt\+=\((\w+)\)/g)].map((m) =>
    m[1]
  );
  assert.ok(packages.length >= 4, `.ci/run installs ${packages}`);
  const install = /apt-get install[^\n]*\\\n([^\n]*)/.exec(scripts);
  const installed = `${install?.[0]}`.split(/\s+/);
  for (const name of packages) {
    assert.ok(installed.includes(name), `apt-get install ${name}`);
  }
  const deno = /npm install -g (deno@[\d.]+)/.exec(ciRun)?.[1];
  assert.ok(deno, ".ci/run pins a Deno version");
  assert.match(
    scripts,
    new RegExp(`npm install -g ${deno!.replaceAll(".", "\\.")}`),
  );
  const required = [...ciRun.matchAll(/(HOOKWATCH_REQUIRE_\w+)=1/g)].map((m) =>
    m[1]
  );
  assert.ok(required.length >= 4);
  for (const name of required) {
    assert.equal(workflow.jobs.performance.env[name], "1", name);
  }
});

Deno.test("workflow - it runs the suite, then perf:ci, and uploads performance-report.json even on failure", () => {
  const index = (pattern: RegExp) =>
    steps.findIndex((s) => pattern.test(s.run ?? ""));
  const suite = index(/^deno task (check|test)\b/m);
  const perf = index(/^deno task perf:ci\b/m);
  assert.ok(suite >= 0 && perf > suite, "suite, then perf:ci");
  const upload = steps.findIndex((s) =>
    String(s.uses).startsWith("actions/upload-artifact@")
  );
  assert.ok(upload > perf);
  assert.equal(steps[upload].if, "always()");
  assert.equal(steps[upload].with.path, "performance-report.json");
  assert.ok(
    steps.findIndex((s) => String(s.uses).startsWith("actions/checkout@")) <
      suite,
  );
  assert.ok(
    Deno.readTextFileSync(`${ROOT}bench/lib.ts`).includes(
      "performance-report.json",
    ),
    "perf:ci writes the file the workflow uploads",
  );
});
