/**
 * The PostgreSQL Kubernetes variant (`deploy/k8s/postgres/`) and the local two-replica script.
 */
import assert from "node:assert/strict";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { postJson, ROOT, sampleEvent } from "./helpers/server.ts";
import { openSse } from "./helpers/sse.ts";
import { PG_BIN, postgresIgnored } from "./helpers/postgres.ts";

// deno-lint-ignore no-explicit-any -- manifests are arbitrary YAML
type Doc = any;

function manifests(dirs: string[]): Doc[] {
  const docs: Doc[] = [];
  for (const dir of dirs) {
    for (const entry of Deno.readDirSync(`${ROOT}deploy/k8s/${dir}`)) {
      if (!entry.name.endsWith(".yaml") || entry.name.includes("example")) {
        continue;
      }
      const text = Deno.readTextFileSync(
        `${ROOT}deploy/k8s/${dir}/${entry.name}`,
      );
      for (const doc of parseAllDocuments(text)) {
        assert.deepEqual(doc.errors, [], `${dir}/${entry.name}`);
        docs.push(doc.toJS());
      }
    }
  }
  return docs;
}

Deno.test("deploy - Kubernetes PostgreSQL variant: three replicas sharing a database from a Secret", () => {
  const docs = manifests(["base", "postgres"]);
  const kind = (k: string) => docs.filter((d) => d.kind === k);
  const [deployment] = kind("Deployment");
  assert.equal(deployment.spec.replicas, 3);
  assert.equal(deployment.spec.strategy.type, "RollingUpdate");
  assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
  const pod = deployment.spec.template;
  assert.deepEqual(deployment.spec.selector.matchLabels, pod.metadata.labels);
  assert.equal(
    pod.spec.volumes,
    undefined,
    "no volume: the database is shared",
  );
  const [container] = pod.spec.containers;
  const env = (name: string) => container.env.find((e: Doc) => e.name === name);
  const secretKey = env("DATABASE_URL").valueFrom.secretKeyRef;
  const example = parseYaml(
    Deno.readTextFileSync(`${ROOT}deploy/k8s/postgres/secret.example.yaml`),
  );
  assert.equal(secretKey.name, example.metadata.name);
  assert.match(example.stringData[secretKey.key], /^postgres:\/\//);
  const pool = Number(env("DATABASE_POOL_SIZE").value);
  assert.ok(Number.isInteger(pool) && pool >= 1);
  // Pool plus one LISTEN connection per replica stays well under PostgreSQL's default 100.
  assert.ok(deployment.spec.replicas * (pool + 1) <= 50);
  assert.equal(container.readinessProbe.httpGet.path, "/health/ready");
  assert.equal(container.livenessProbe.httpGet.path, "/health/live");
  const [budget] = kind("PodDisruptionBudget");
  assert.deepEqual(budget.spec.selector.matchLabels, pod.metadata.labels);
  assert.ok(budget.spec.minAvailable < deployment.spec.replicas);
  const [service] = kind("Service");
  assert.deepEqual(service.spec.selector, pod.metadata.labels);
  assert.equal(
    service.spec.sessionAffinity ?? "None",
    "None",
    "any replica can serve any stream",
  );
  const k = parseYaml(
    Deno.readTextFileSync(`${ROOT}deploy/k8s/postgres/kustomization.yaml`),
  );
  for (const resource of k.resources) {
    assert.ok(
      Deno.statSync(`${ROOT}deploy/k8s/postgres/${resource}`),
      `kustomization lists missing ${resource}`,
    );
  }
});

Deno.test({
  name:
    "deploy - the local replicas script starts PostgreSQL and two replicas that share events, and stops them",
  ignore: postgresIgnored(),
  fn: async () => {
    if (PG_BIN === null) throw new Error("PostgreSQL is required");
    const dir = await Deno.makeTempDir({ prefix: "hookwatch-local-" });
    const [pgPort, portA, portB] = freePorts(3);
    const script = new Deno.Command(`${ROOT}deploy/local-replicas.sh`, {
      env: {
        PG_DIR: dir,
        PG_PORT: String(pgPort),
        PORTS: `${portA} ${portB}`,
        PG_BIN,
        DENO: Deno.execPath(),
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let output = "";
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        output += decoder.decode(chunk, { stream: true });
      }
    };
    const pumps = Promise.all([pump(script.stdout), pump(script.stderr)]);
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes("Ctrl-C stops everything")) {
        assert.ok(Date.now() < deadline, `script did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const a = `http://127.0.0.1:${portA}`;
      const b = `http://127.0.0.1:${portB}`;
      const stream = await openSse(`${b}/stream`);
      try {
        await stream.until((f) => f.length === 1);
        const posted = await postJson(`${a}/events`, sampleEvent());
        assert.equal(posted.status, 200);
        const [frame] = await stream.until((f) => f.length === 1, 10_000);
        assert.equal(Number(frame.id), posted.body.id);
      } finally {
        await stream.close();
      }
    } finally {
      script.kill("SIGTERM");
      const status = await script.status;
      await pumps;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      assert.ok(status.success, `script exited ${status.code}:\n${output}`);
      assert.match(output, /stopped/);
    }
    for (const port of [pgPort, portA, portB]) {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      listener.close(); // free again: nothing left running
    }
  },
});

function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}
